"""The one JSON codec of the wire contract.

``decode_json`` turns untrusted bytes into plain JSON values within size and depth
bounds; ``from_wire`` validates plain values into a wire dataclass; ``to_wire`` and
``encode`` go the other way. Wire types are frozen dataclasses whose field annotations
drive validation: ``str``, ``int``, ``float``, ``bool``, ``Literal``, ``X | None``,
``tuple[X, ...]``, ``dict[str, Any]`` (any JSON object), nested dataclasses, and unions
of dataclasses told apart by their ``type`` field. Unknown keys are ignored so that
older clients keep reading newer gateways.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from shared.errors import DecodeError, ValidationError

T = TypeVar("T")

DEFAULT_MAX_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_DEPTH = 64

_MISSING = dataclasses.MISSING


def decode_json(
    data: bytes | str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Any:
    """Parse untrusted JSON, refusing input over ``max_bytes`` or nested over ``max_depth``."""
    # surrogatepass: a str may hold lone surrogates (from \ud800 escapes); measure, don't crash
    size = len(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    if size > max_bytes:
        raise DecodeError(f"JSON body is {size} bytes; the limit is {max_bytes}")
    try:
        value = json.loads(data, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise DecodeError(f"JSON nests deeper than {max_depth} levels") from exc
    except ValueError as exc:  # syntax, bad UTF-8, NaN/Infinity, ints over 4300 digits
        raise DecodeError(f"malformed JSON: {exc}") from exc
    _check_depth(value, max_depth)
    return value


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; accepted, they would make `encode` emit invalid JSON.
    raise ValueError(f"{name} is not a JSON value")


def _check_depth(value: Any, max_depth: int) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            raise DecodeError(f"JSON nests deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def to_wire(obj: Any) -> Any:
    """A wire dataclass (or tuple/dict of them) as plain JSON values; ``None`` fields omitted."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {}
        for name in _field_names(type(obj)):
            value = getattr(obj, name)
            if value is not None:
                out[name] = to_wire(value)
        return out
    if isinstance(obj, (tuple, list)):
        return [to_wire(item) for item in obj]
    if isinstance(obj, dict):
        return {key: to_wire(value) for key, value in obj.items()}
    return obj


def encode(obj: Any) -> str:
    """Compact JSON text of a wire value."""
    return json.dumps(to_wire(obj), separators=(",", ":"), ensure_ascii=False)


def from_wire(cls: type[T], data: Any, path: str = "") -> T:
    """Validate plain JSON values into ``cls``; raises ``ValidationError`` naming the path."""
    converter = _converter(typing.cast(Any, cls))
    return typing.cast(T, converter(data, path))


def decode(
    cls: type[T],
    data: bytes | str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> T:
    """``decode_json`` then ``from_wire``: untrusted bytes straight to a wire type."""
    return from_wire(cls, decode_json(data, max_bytes=max_bytes, max_depth=max_depth))


# --- converters, built once per annotation -------------------------------------------

Converter = Callable[[Any, str], Any]


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


@cache
def _converter(hint: Any) -> Converter:
    if dataclasses.is_dataclass(hint):
        return _dataclass_converter(typing.cast(type, hint))
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return lambda value, path: value
    if hint in (str, int, float, bool):
        return _scalar_converter(hint)
    if origin is typing.Literal:
        return _literal_converter(args)
    if origin in (typing.Union, types.UnionType):
        return _union_converter(args)
    if origin is tuple:
        return _tuple_converter(args[0])
    if origin is dict:
        return _object_converter
    raise TypeError(f"the wire codec cannot handle {hint!r}")


_JSON_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def _scalar_converter(kind: type) -> Converter:
    def convert(value: Any, path: str) -> Any:
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if type(value) is not kind:
            raise ValidationError(path, f"expected {_JSON_NAMES[kind]}")
        return value

    return convert


def _literal_converter(choices: tuple[Any, ...]) -> Converter:
    allowed = frozenset(choices)

    def convert(value: Any, path: str) -> Any:
        if not isinstance(value, str) or value not in allowed:
            listed = ", ".join(sorted(repr(c) for c in choices))
            raise ValidationError(path, f"expected one of {listed}")
        return value

    return convert


def _union_converter(members: tuple[Any, ...]) -> Converter:
    optional = type(None) in members
    rest = tuple(m for m in members if m is not type(None))
    if all(dataclasses.is_dataclass(m) for m in rest) and len(rest) > 1:
        inner = _tagged_converter(rest)
    elif len(rest) == 1:
        inner = _converter(rest[0])
    else:
        raise TypeError(f"the wire codec cannot handle the union {members!r}")

    def convert(value: Any, path: str) -> Any:
        if value is None and optional:
            return None
        return inner(value, path)

    return convert


def _tagged_converter(members: tuple[Any, ...]) -> Converter:
    by_tag = {_type_tag(member): _converter(member) for member in members}
    listed = ", ".join(sorted(repr(tag) for tag in by_tag))

    def convert(value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise ValidationError(path, "expected an object")
        member = by_tag.get(str(value.get("type")))
        if member is None:
            raise ValidationError(_join(path, "type"), f"expected one of {listed}")
        return member(value, path)

    return convert


def _type_tag(cls: Any) -> str:
    for f in dataclasses.fields(cls):
        if f.name == "type" and isinstance(f.default, str):
            return f.default
    raise TypeError(f"{cls.__name__} needs a 'type' field with a default to be in a union")


def _tuple_converter(item_hint: Any) -> Converter:
    item = _converter(item_hint)

    def convert(value: Any, path: str) -> Any:
        if not isinstance(value, list):
            raise ValidationError(path, "expected an array")
        return tuple(item(entry, f"{path}[{i}]") for i, entry in enumerate(value))

    return convert


def _object_converter(value: Any, path: str) -> Any:
    if not isinstance(value, dict):
        raise ValidationError(path, "expected an object")
    return value


def _dataclass_converter(cls: type) -> Converter:
    hints = typing.get_type_hints(cls)
    plan = []
    for f in dataclasses.fields(cls):
        required = f.default is _MISSING and f.default_factory is _MISSING
        plan.append((f.name, _converter(hints[f.name]), required))

    def convert(value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise ValidationError(path, "expected an object")
        kwargs = {}
        for name, field_converter, required in plan:
            if name in value:
                kwargs[name] = field_converter(value[name], _join(path, name))
            elif required:
                raise ValidationError(_join(path, name), "is required")
        return cls(**kwargs)

    return convert


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name

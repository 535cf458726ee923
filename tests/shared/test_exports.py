"""``shared`` re-exports its public names with a sorted, complete ``__all__``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types
import typing

import shared


def _isort_key(name: str) -> tuple[int, str]:
    # ruff's RUF022 order: CONSTANTS, then Classes, then functions, each alphabetical.
    if name.isupper():
        return (0, name)
    return (1 if name[0].isupper() else 2, name)


def test_all_is_sorted_without_duplicates() -> None:
    assert shared.__all__ == sorted(shared.__all__, key=_isort_key)
    assert len(set(shared.__all__)) == len(shared.__all__)


def test_every_exported_name_is_importable() -> None:
    namespace: dict[str, object] = {}
    exec("from shared import *", namespace)  # noqa: S102 - the import users would write
    missing = [name for name in shared.__all__ if name not in namespace]
    assert missing == []
    assert all(getattr(shared, name) is namespace[name] for name in shared.__all__)


def _public_definitions() -> dict[str, str]:
    """Classes, functions and wire type aliases defined in each ``shared`` submodule."""
    found = {}
    for info in pkgutil.iter_modules(shared.__path__):
        module = importlib.import_module(f"shared.{info.name}")
        for name, value in vars(module).items():
            if name.startswith("_"):
                continue
            defined_here = getattr(value, "__module__", None) == module.__name__
            own_callable = (inspect.isclass(value) or inspect.isfunction(value)) and defined_here
            # wire type aliases: Literal choices (Role, ErrorCode) and unions (StreamEvent)
            type_alias = typing.get_origin(value) in (typing.Literal, types.UnionType)
            if own_callable or (type_alias and name[0].isupper()):
                found[name] = module.__name__
    return found


def test_all_lists_every_public_class_function_and_type_alias() -> None:
    definitions = _public_definitions()
    assert "ChatRequest" in definitions and "Role" in definitions  # the scan sees both kinds
    missing = sorted(
        f"{module}.{name}" for name, module in definitions.items() if name not in shared.__all__
    )
    assert missing == []

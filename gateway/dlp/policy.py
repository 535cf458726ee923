"""A tenant's DLP policy: an action per detector type, with defaults per category.

Actions: ``allow`` (not even reported), ``redact`` (replaced by a numbered placeholder),
``block`` (the request is refused), ``alert`` (passed unchanged, but reported).
Defaults: secrets are redacted, private keys and Workjet's own credentials block, personal
data is redacted. A policy is plain data, loaded from a dict (JSON/TOML file or database
row) and validated here; unknown keys and values are errors that say what is allowed.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from shared.dlp import DlpAction

ACTIONS: frozenset[str] = frozenset({"allow", "redact", "block", "alert"})
CATEGORIES = ("secret", "pii", "national_id")
DEFAULT_CATEGORY_ACTIONS: Mapping[str, DlpAction] = {
    "secret": "redact",
    "pii": "redact",
    "national_id": "redact",
}
DEFAULT_TYPE_ACTIONS: Mapping[str, DlpAction] = {
    "RSA_PRIVATE_KEY": "block",
    "EC_PRIVATE_KEY": "block",
    "DSA_PRIVATE_KEY": "block",
    "OPENSSH_PRIVATE_KEY": "block",
    "PRIVATE_KEY": "block",
    "PGP_PRIVATE_KEY": "block",
    "PUTTY_PRIVATE_KEY": "block",
    "WORKJET_API_KEY": "block",
    "WORKJET_SESSION_TOKEN": "block",
}
DEFAULT_COUNTRIES = ("GB", "DE", "FR", "ES", "IN", "IT")
DEFAULT_PHONE_REGIONS = ("US", "GB")
MAX_LIST = 64


class PolicyError(ValueError):
    """A policy document that is not valid; the message says what to change."""


@dataclass(frozen=True, slots=True)
class DlpPolicy:
    """Per-tenant DLP settings. ``DlpPolicy()`` is the default policy."""

    actions: Mapping[str, DlpAction] = field(default_factory=dict)  # per type or category
    national_ids: tuple[str, ...] = DEFAULT_COUNTRIES  # ISO country codes, or ("ALL",)
    phone_regions: tuple[str, ...] = DEFAULT_PHONE_REGIONS
    normalize: bool = True  # evasion normalisation (Unicode, invisibles, look-alikes)
    decode_depth: int = 2  # nested base64/hex/URL-encoded layers to look inside (0 = off)
    ignore_test_values: bool = True  # documentation values (AKIA...EXAMPLE, 4111 1111 ...)
    restore_placeholders: bool = False  # put the originals back into the answer
    scan_responses: bool = False  # also filter the model's answers (holds back ~200 chars)

    def action_for(self, type_: str, category: str) -> DlpAction:
        if type_ in self.actions:
            return self.actions[type_]
        if type_ in DEFAULT_TYPE_ACTIONS and category not in self.actions:
            return DEFAULT_TYPE_ACTIONS[type_]
        if category in self.actions:
            return self.actions[category]
        return DEFAULT_CATEGORY_ACTIONS.get(category, "redact")

    @classmethod
    def from_dict(
        cls, doc: Mapping[str, Any], known_types: frozenset[str] = frozenset()
    ) -> DlpPolicy:
        if not isinstance(doc, Mapping):
            raise PolicyError("a DLP policy is a JSON object")
        allowed = set(cls.__dataclass_fields__)
        unknown = sorted(set(doc) - allowed)
        if unknown:
            raise PolicyError(f"unknown policy keys {unknown}; allowed: {sorted(allowed)}")
        kwargs: dict[str, Any] = {}
        if "actions" in doc:
            kwargs["actions"] = _actions(doc["actions"], known_types)
        for name in ("national_ids", "phone_regions"):
            if name in doc:
                kwargs[name] = _codes(name, doc[name])
        for name in ("normalize", "ignore_test_values", "restore_placeholders", "scan_responses"):
            if name in doc:
                if not isinstance(doc[name], bool):
                    raise PolicyError(f"{name} must be true or false")
                kwargs[name] = doc[name]
        if "decode_depth" in doc:
            depth = doc["decode_depth"]
            if not isinstance(depth, int) or isinstance(depth, bool) or not 0 <= depth <= 3:
                raise PolicyError("decode_depth must be an integer from 0 to 3")
            kwargs["decode_depth"] = depth
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "actions": dict(self.actions),
            "national_ids": list(self.national_ids),
            "phone_regions": list(self.phone_regions),
            "normalize": self.normalize,
            "decode_depth": self.decode_depth,
            "ignore_test_values": self.ignore_test_values,
            "restore_placeholders": self.restore_placeholders,
            "scan_responses": self.scan_responses,
        }


def _actions(value: object, known_types: frozenset[str]) -> dict[str, DlpAction]:
    if not isinstance(value, Mapping) or len(value) > 512:
        raise PolicyError("actions must be an object of at most 512 {type: action} entries")
    out: dict[str, DlpAction] = {}
    for key, action in value.items():
        if not isinstance(key, str) or action not in ACTIONS:
            raise PolicyError(f"actions[{str(key)[:64]!r}] must be one of {sorted(ACTIONS)}")
        if key not in CATEGORIES and known_types and key not in known_types:
            raise PolicyError(
                f"actions: unknown detector type {key!r}; use a category "
                f"({', '.join(CATEGORIES)}) or a type listed by 'workjet-gateway dlp types'"
            )
        out[key] = cast(DlpAction, action)
    return out


def _codes(name: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise PolicyError(f"{name} must be a list of at most {MAX_LIST} country codes")
    codes = []
    for code in value:
        if not isinstance(code, str) or not ((len(code) == 2 and code.isalpha()) or code == "ALL"):
            raise PolicyError(f"{name}: {code!r} is not a two-letter country code")
        codes.append(code.upper())
    return tuple(codes)


@dataclass(frozen=True, slots=True)
class PolicyFile:
    """A policy file: one policy, or ``{"default": {...}, "tenants": {name: {...}}}``."""

    default: DlpPolicy
    tenants: Mapping[str, DlpPolicy]

    def for_tenant(self, name: str | None) -> DlpPolicy:
        if name is None:
            return self.default
        if name not in self.tenants:
            raise PolicyError(f"no policy for tenant {name!r} in the policy file")
        return self.tenants[name]


def load_policy_file(path: str | Path, known_types: frozenset[str] = frozenset()) -> PolicyFile:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {p}: {exc.strerror}") from exc
    if len(raw) > 1 << 20:
        raise PolicyError(f"policy file {p} is larger than 1 MiB")
    try:
        doc = tomllib.loads(raw.decode("utf-8")) if p.suffix == ".toml" else json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        kind = "TOML" if p.suffix == ".toml" else "JSON"
        raise PolicyError(f"policy file {p} is not valid {kind}: {exc}") from exc
    if isinstance(doc, dict) and ("tenants" in doc or "default" in doc):
        extra = set(doc) - {"tenants", "default"}
        if extra:
            raise PolicyError(f"policy file: unknown keys {sorted(extra)}")
        tenants = doc.get("tenants", {})
        if not isinstance(tenants, dict):
            raise PolicyError("policy file: tenants must be an object {name: policy}")
        return PolicyFile(
            DlpPolicy.from_dict(doc.get("default", {}), known_types),
            {str(k): DlpPolicy.from_dict(v, known_types) for k, v in tenants.items()},
        )
    return PolicyFile(DlpPolicy.from_dict(doc, known_types), {})

"""The model catalog: which models exist, who serves them, what they cost, who may use them.

Loaded once at start-up from a JSON file (the packaged ``gateway/catalog.json`` unless
``WORKJET_ROUTER_CATALOG`` names another). Aliases name an ordered list of models: the
first is tried first, the rest are fallbacks. Per-tenant sections (keyed by tenant name
or id) restrict the models a tenant may use and add tenant aliases.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, cast, get_args

from gateway.config import ConfigError
from shared.models import Capability, ModelDescriptor, Provider

PROVIDERS: tuple[str, ...] = get_args(Provider)
DEFAULT_MAX_OUTPUT_TOKENS = 4096


class CatalogError(ConfigError):
    """The catalog file is not usable; the message names the entry and what to fix."""


class UnknownModelError(LookupError):
    """No catalog model or alias by that name is open to the tenant."""


@dataclass(frozen=True, slots=True)
class CatalogModel:
    id: str
    provider: Provider
    upstream: str  # the provider's own model name
    context_window: int
    input_price_per_mtok: float
    output_price_per_mtok: float
    capabilities: tuple[Capability, ...] = ("streaming",)
    max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS

    def descriptor(self) -> ModelDescriptor:
        return ModelDescriptor(
            id=self.id, provider=self.provider, context_window=self.context_window,
            input_price_per_mtok=self.input_price_per_mtok,
            output_price_per_mtok=self.output_price_per_mtok, capabilities=self.capabilities,
        )

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """Tokens times the catalog price, in the catalog's currency."""
        total = (input_tokens * self.input_price_per_mtok
                 + output_tokens * self.output_price_per_mtok) / 1_000_000
        return round(total, 8)


@dataclass(frozen=True, slots=True)
class TenantPolicy:
    allow: frozenset[str] | None = None  # None: every catalog model
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)


class Catalog:
    def __init__(
        self,
        models: tuple[CatalogModel, ...],
        aliases: dict[str, tuple[str, ...]],
        tenants: dict[str, TenantPolicy],
    ) -> None:
        self.models = {m.id: m for m in models}
        self.aliases = aliases
        self.tenants = tenants
        for name, targets in [*aliases.items(),
                              *((n, t) for p in tenants.values() for n, t in p.aliases.items())]:
            for target in targets:
                if target not in self.models:
                    raise CatalogError(f"alias {name!r} names {target!r}, which is no model")
        self._resolved: dict[tuple[str, str, str], tuple[CatalogModel, ...]] = {}

    @classmethod
    def load(cls, path: str = "") -> Catalog:
        if path:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                raise CatalogError(f"cannot read the catalog {path}: {exc.strerror}; "
                                   "set WORKJET_ROUTER_CATALOG to a readable JSON file") from None
        else:
            text = resources.files("gateway").joinpath("catalog.json").read_text("utf-8")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CatalogError(f"the catalog {path or 'catalog.json'} is not JSON: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Catalog:
        models = tuple(_model(i, m) for i, m in enumerate(data.get("models", [])))
        aliases = {str(k): _names(k, v) for k, v in (data.get("aliases") or {}).items()}
        tenants = {}
        for name, section in (data.get("tenants") or {}).items():
            allow = section.get("allow")
            tenants[str(name)] = TenantPolicy(
                allow=frozenset(allow) if allow is not None else None,
                aliases={str(k): _names(k, v) for k, v in (section.get("aliases") or {}).items()},
            )
        return cls(models, aliases, tenants)

    def policy(self, tenant_id: str, tenant_name: str) -> TenantPolicy:
        return self.tenants.get(tenant_id) or self.tenants.get(tenant_name) or TenantPolicy()

    def resolve(self, name: str, tenant_id: str, tenant_name: str) -> tuple[CatalogModel, ...]:
        """The models to try, in order, for ``name`` (a model id or an alias)."""
        key = (name, tenant_id, tenant_name)
        found = self._resolved.get(key)
        if found is None:
            found = self._resolve(name, self.policy(tenant_id, tenant_name))
            if len(self._resolved) < 10_000:  # names come from outside: bound the cache
                self._resolved[key] = found
        return found

    def _resolve(self, name: str, policy: TenantPolicy) -> tuple[CatalogModel, ...]:
        names = policy.aliases.get(name) or self.aliases.get(name) or (name,)
        allowed = tuple(self.models[n] for n in names if n in self.models
                        and (policy.allow is None or n in policy.allow))
        if not allowed:
            raise UnknownModelError(name)
        return allowed

    def visible(self, tenant_id: str, tenant_name: str) -> tuple[CatalogModel, ...]:
        policy = self.policy(tenant_id, tenant_name)
        return tuple(m for m in self.models.values()
                     if policy.allow is None or m.id in policy.allow)


def _names(alias: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise CatalogError(f"alias {alias!r}: give a model id or a non-empty list of model ids")


def _model(index: int, raw: Any) -> CatalogModel:
    where = f"models[{index}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise CatalogError(f"{where}: each model needs an 'id' string")
    if raw.get("provider") not in PROVIDERS:
        raise CatalogError(f"{where} ({raw['id']}): provider must be one of {', '.join(PROVIDERS)}")
    try:
        return CatalogModel(
            id=raw["id"], provider=cast(Provider, raw["provider"]),
            upstream=str(raw.get("upstream") or raw["id"]),
            context_window=int(raw.get("context_window", 0)),
            input_price_per_mtok=float(raw.get("input_price_per_mtok", 0.0)),
            output_price_per_mtok=float(raw.get("output_price_per_mtok", 0.0)),
            capabilities=tuple(raw.get("capabilities", ("streaming",))),
            max_output_tokens=int(raw.get("max_output_tokens", DEFAULT_MAX_OUTPUT_TOKENS)),
        )
    except (TypeError, ValueError) as exc:
        raise CatalogError(f"{where} ({raw['id']}): {exc}") from None

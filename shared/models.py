"""Model descriptor: one entry of the model catalog as the gateway lists it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Provider = Literal["anthropic", "openai", "google", "ollama"]
Capability = Literal["tools", "streaming", "vision", "system_prompt"]


@dataclass(frozen=True, slots=True)
class ModelDescriptor:
    """Prices are per million tokens in the catalog's currency (US dollars by default)."""

    id: str
    provider: Provider
    context_window: int
    input_price_per_mtok: float
    output_price_per_mtok: float
    capabilities: tuple[Capability, ...] = ("streaming",)


@dataclass(frozen=True, slots=True)
class ModelList:
    """``GET /v1/models`` in the native shape."""

    models: tuple[ModelDescriptor, ...]

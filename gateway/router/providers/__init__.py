"""Provider adapters: translation between the shared contract and each provider's wire."""

from __future__ import annotations

from gateway.router.providers.anthropic import AnthropicAdapter
from gateway.router.providers.base import Adapter
from gateway.router.providers.google import GoogleAdapter
from gateway.router.providers.ollama import OllamaAdapter
from gateway.router.providers.openai import OpenAIAdapter


def adapters() -> dict[str, Adapter]:
    return {"anthropic": AnthropicAdapter(), "openai": OpenAIAdapter(),
            "google": GoogleAdapter(), "ollama": OllamaAdapter()}


__all__ = ["Adapter", "AnthropicAdapter", "GoogleAdapter", "OllamaAdapter", "OpenAIAdapter",
           "adapters"]

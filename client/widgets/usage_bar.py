"""The line under the prompt: model, tokens and cost of the conversation."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static

from shared.chat import Usage


def usage_text(model: str, usage: Usage, state: str = "") -> str:
    cost = f"${usage.cost:.4f}" if usage.cost < 100 else f"${usage.cost:,.2f}"
    tokens = f"in {usage.input_tokens:,} · out {usage.output_tokens:,} tokens · {cost}"
    head = model or "no model"
    return f"{head} · {tokens}" + (f" · {state}" if state else "")


class UsageBar(Static):
    """Shows the conversation's totals; ``state`` says when an answer is streaming."""

    model: reactive[str] = reactive("")
    usage: reactive[Usage] = reactive(Usage)
    state: reactive[str] = reactive("")

    def render(self) -> str:
        return usage_text(self.model, self.usage, self.state)

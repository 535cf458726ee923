"""What the chat shows for stored messages: Markdown for text, a collapsed block per tool call.

A tool call (in an assistant message) and its result (in the following ``tool`` message)
are shown together as one :class:`ToolBlock` where the call is. A result whose call is not
rendered (it lies before the window of shown messages) gets a block of its own, marked
as an orphan so it can be removed when the earlier messages are shown.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.widget import Widget
from textual.widgets import Label

from client.widgets.message_view import MessageView
from client.widgets.tool_block import ToolBlock
from shared.chat import Message, TextPart, ToolCallPart, ToolResultPart


def conversation_views(messages: Sequence[Message], start: int, end: int) -> list[Widget]:
    """Widgets for ``messages[start:end]``, with a hint when earlier ones are hidden."""
    paired, owner = _pairs(messages)  # all of them: a pair may straddle the window's edge
    out: list[Widget] = []
    if start > 0:
        out.append(Label(f"{start} earlier messages · Ctrl+P shows more", id="earlier",
                         classes="hint"))
    for i in range(start, min(end, len(messages))):
        message = messages[i]
        text = "\n".join(p.text for p in message.content if isinstance(p, TextPart))
        blocks: list[Widget] = []
        for j, part in enumerate(message.content):
            if isinstance(part, ToolCallPart):
                blocks.append(ToolBlock(part.name, part.arguments, paired.get((i, j)),
                                        tool_call_id=part.id, key=f"{i}.{j}"))
            elif isinstance(part, ToolResultPart):
                call_at = owner.get((i, j))
                if call_at is not None and start <= call_at[0]:
                    continue  # shown inside its call's block
                call = messages[call_at[0]].content[call_at[1]] if call_at else None
                assert call is None or isinstance(call, ToolCallPart)
                key = f"{call_at[0]}.{call_at[1]}" if call_at else f"{i}.{j}"
                blocks.append(ToolBlock(call.name if call else "tool",
                                        call.arguments if call else {}, part,
                                        tool_call_id=part.tool_call_id, key=key, orphan=True))
        if text or (not blocks and message.role != "tool"):
            out.append(MessageView(message.role, text))
        out.extend(blocks)
    return out


Position = tuple[int, int]  # (message index, part index)


def _pairs(
    messages: Sequence[Message],
) -> tuple[dict[Position, ToolResultPart], dict[Position, Position]]:
    """Each call's result, and each result's call: a result answers the latest call with
    its id before it (ids may repeat across rounds: some providers number them anew)."""
    pending: dict[str, Position] = {}
    paired: dict[Position, ToolResultPart] = {}
    owner: dict[Position, Position] = {}
    for i, message in enumerate(messages):
        for j, part in enumerate(message.content):
            if isinstance(part, ToolCallPart):
                pending[part.id] = (i, j)
            elif isinstance(part, ToolResultPart) and part.tool_call_id in pending:
                call_at = pending.pop(part.tool_call_id)
                paired[call_at] = part
                owner[(i, j)] = call_at
    return paired, owner


def drop_orphans(blocks: Sequence[ToolBlock]) -> list[ToolBlock]:
    """Orphan blocks among ``blocks`` whose call now has a block of its own."""
    shown = {b.key for b in blocks if not b.has_class("-orphan")}
    return [b for b in blocks if b.has_class("-orphan") and b.key in shown]

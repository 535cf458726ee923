"""Local conversation files: one JSON file per conversation, never synced anywhere.

Files live in ``$XDG_DATA_HOME/workjet/conversations/`` (directory 0700, files 0600)
and are written atomically (temporary file, fsync, rename), so a crash or a kill in
the middle of a write leaves the previous version intact.
"""

from __future__ import annotations

import builtins
import json
import re
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from client.atomic import ensure_private_dir, remove_stale_temporaries, write_atomic
from client.xdg import data_dir
from shared.chat import Message, TextPart, ToolCallPart, ToolResultPart, Usage
from shared.codec import decode_json, from_wire, to_wire

FORMAT_VERSION = 1
MAX_TITLE_CHARS = 200
MAX_FILE_BYTES = 256 * 1024 * 1024
_ID = re.compile(r"^[0-9a-f]{32}$")


class HistoryError(ValueError):
    """A conversation that cannot be read or written; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    title: str
    created: float
    updated: float
    model: str = ""
    messages: tuple[Message, ...] = ()
    usage: Usage = field(default_factory=Usage)

    def with_message(self, message: Message, usage: Usage | None = None) -> Conversation:
        total = self.usage
        if usage is not None:
            total = Usage(
                total.input_tokens + usage.input_tokens,
                total.output_tokens + usage.output_tokens,
                round(total.cost + usage.cost, 8),
            )
        return replace(self, messages=(*self.messages, message), usage=total, updated=time.time())


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    id: str
    title: str
    updated: float
    message_count: int


def message_text(message: Message) -> str:
    """The readable text of a message: its text parts, tool calls and results."""
    out: list[str] = []
    for part in message.content:
        if isinstance(part, TextPart):
            out.append(part.text)
        elif isinstance(part, ToolCallPart):
            out.append(f"[tool call {part.name} {json.dumps(part.arguments)}]")
        elif isinstance(part, ToolResultPart):
            out.append(f"[tool result{' (error)' if part.is_error else ''}] {part.content}")
    return "\n".join(out)


def check_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise HistoryError("a conversation title cannot be empty")
    return title[:MAX_TITLE_CHARS]


class History:
    """The conversation files in one directory."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or (data_dir() / "conversations")

    def _path(self, conversation_id: str) -> Path:
        if not _ID.match(conversation_id):
            raise HistoryError(f"{conversation_id!r} is not a conversation id")
        return self.directory / f"{conversation_id}.json"

    def open(self) -> History:
        """Create the directory (0700) and clear temporaries of interrupted writes."""
        ensure_private_dir(self.directory)
        remove_stale_temporaries(self.directory)
        return self

    def new(self, title: str = "New conversation", model: str = "") -> Conversation:
        now = time.time()
        return Conversation(uuid.uuid4().hex, check_title(title), now, now, model)

    def save(self, conversation: Conversation) -> None:
        data = {
            "version": FORMAT_VERSION,
            "id": conversation.id,
            "title": conversation.title,
            "created": conversation.created,
            "updated": conversation.updated,
            "model": conversation.model,
            "usage": to_wire(conversation.usage),
            "messages": to_wire(conversation.messages),
        }
        encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        write_atomic(self._path(conversation.id), encoded)

    def load(self, conversation_id: str) -> Conversation:
        path = self._path(conversation_id)
        try:
            raw = path.read_bytes()
        except FileNotFoundError as exc:
            raise HistoryError(f"conversation {conversation_id} does not exist") from exc
        return _parse(raw, path)

    def rename(self, conversation_id: str, title: str) -> Conversation:
        renamed = replace(self.load(conversation_id), title=check_title(title))
        self.save(renamed)
        return renamed

    def delete(self, conversation_id: str) -> bool:
        try:
            self._path(conversation_id).unlink()
        except FileNotFoundError:
            return False
        return True

    def _all(self) -> builtins.list[Conversation]:
        if not self.directory.is_dir():
            return []
        out = []
        for path in self.directory.glob("*.json"):
            if not _ID.match(path.stem):
                continue
            try:
                out.append(_parse(path.read_bytes(), path))
            except (HistoryError, OSError):
                continue  # an unreadable file must not hide the others
        out.sort(key=lambda c: c.updated, reverse=True)
        return out

    def list(self) -> list[ConversationSummary]:
        return [_summary(c) for c in self._all()]

    def search(self, query: str) -> builtins.list[ConversationSummary]:
        """Conversations whose title or any message text contains ``query`` (any case)."""
        needle = query.casefold().strip()
        if not needle:
            return self.list()
        found = []
        for conv in self._all():
            if needle in conv.title.casefold() or any(
                needle in message_text(m).casefold() for m in conv.messages
            ):
                found.append(_summary(conv))
        return found


def _summary(conv: Conversation) -> ConversationSummary:
    return ConversationSummary(conv.id, conv.title, conv.updated, len(conv.messages))


def _parse(raw: bytes, path: Path) -> Conversation:
    if len(raw) > MAX_FILE_BYTES:
        raise HistoryError(f"{path} is larger than {MAX_FILE_BYTES} bytes")
    try:
        data: Any = decode_json(raw, max_bytes=MAX_FILE_BYTES)
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            raise HistoryError(f"{path} is not a Workjet conversation file")
        return Conversation(
            id=str(data["id"]),
            title=str(data["title"]),
            created=float(data["created"]),
            updated=float(data["updated"]),
            model=str(data.get("model", "")),
            messages=from_wire(tuple[Message, ...], data["messages"]),
            usage=from_wire(Usage, data.get("usage", {})),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, HistoryError):
            raise
        raise HistoryError(f"{path} is damaged: {exc}") from exc


def export_markdown(conversation: Conversation) -> str:
    """The conversation as a Markdown document."""
    lines = [f"# {conversation.title}", ""]
    if conversation.model:
        lines += [f"Model: {conversation.model}", ""]
    headings = {"user": "You", "assistant": "Assistant", "system": "System", "tool": "Tool"}
    for message in conversation.messages:
        lines += [f"## {headings[message.role]}", "", message_text(message), ""]
    return "\n".join(lines)

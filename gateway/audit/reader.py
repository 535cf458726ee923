"""Reading a tenant's audit records back from the store (the API and ``audit export``).

Objects are listed under the tenant's prefix only, from the hour of ``start`` on, and
listing stops after the hour of ``end``, so a narrow window reads few objects. Records
come out object by object (by hour, then stream and sequence); records spooled but not
yet uploaded (up to one upload interval) are not visible yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.audit.objects import line_record, object_lines, parse_data_key
from gateway.audit.sinks import Sink
from shared.audit import AuditRecord


class TimeFormatError(ValueError):
    """A time bound is not RFC 3339 / ISO 8601."""


def parse_time(text: str) -> datetime:
    """``2026-12-03``, ``2026-12-03T09:00``, ``2026-12-03T09:00:00Z`` or with an offset."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise TimeFormatError(
            f"{text!r} is not a time; use RFC 3339 such as 2026-12-03T09:00:00Z"
        ) from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def hour_key(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y/%m/%d/%H")


@dataclass(frozen=True, slots=True)
class Query:
    tenant_id: str
    start: datetime | None = None
    end: datetime | None = None
    user: str = ""
    model: str = ""

    def matches(self, rec: AuditRecord) -> bool:
        if self.user and rec.user_id != self.user:
            return False
        if self.model and rec.model != self.model:
            return False
        if self.start is None and self.end is None:
            return True
        when = parse_time(rec.time)
        return (self.start is None or when >= self.start) and (
            self.end is None or when <= self.end
        )


def object_keys(sink: Sink, query: Query) -> Iterator[str]:
    prefix = f"{query.tenant_id}/"
    start_after = prefix + hour_key(query.start) if query.start else ""
    end_hour = hour_key(query.end) if query.end else None
    for key in sink.list(prefix, start_after=start_after):
        parsed = parse_data_key(key)
        if parsed is None:
            if key.startswith(prefix + "digests/"):
                break  # sorts after every data hour
            continue
        if end_hour is not None and parsed.hour > end_hour:
            break
        yield key


def read_records(sink: Sink, query: Query) -> Iterator[AuditRecord]:
    for key in object_keys(sink, query):
        for line in object_lines(sink.get(key)):
            rec = line_record(line)
            if rec.tenant_id == query.tenant_id and query.matches(rec):
                yield rec

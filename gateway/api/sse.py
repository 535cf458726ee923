"""Server-sent events out: one ``data:`` frame per event, flushed as it is made.

Each yielded chunk is written to the socket by the WSGI server at once (gunicorn does not
buffer a streamed body), and ``None`` from the event source becomes a keep-alive comment.
The stream ends after ``message_end`` or ``error``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator

from flask import Response

from shared.codec import encode
from shared.events import StreamEvent, TextDelta

KEEPALIVE = b": keep-alive\n\n"
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def native_frames(events: Iterable[StreamEvent | None]) -> Iterator[bytes]:
    """The native API's frames: ``data: <encode(event)>``."""
    for event in events:
        if event is None:
            yield KEEPALIVE
        elif type(event) is TextDelta:  # most frames: skip the generic codec (5x faster)
            yield (b'data: {"text":' + json.dumps(event.text, ensure_ascii=False).encode()
                   + b',"type":"text_delta"}\n\n')
        else:
            yield b"data: " + encode(event).encode() + b"\n\n"


def sse_response(frames: Iterable[bytes], headers: dict[str, str] | None = None) -> Response:
    response = Response(frames, mimetype="text/event-stream", headers=HEADERS)
    if headers:
        response.headers.update(headers)
    return response


Framer = Callable[[Iterable[StreamEvent | None]], Iterator[bytes]]

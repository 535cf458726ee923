"""Frames out: joined per flush point, never held behind a keep-alive or at the end."""

from __future__ import annotations

from collections.abc import Iterator

from gateway.api.sse import FLUSH_FRAME, KEEPALIVE, coalesced


def test_frames_are_joined_until_a_flush_and_keepalives_go_out_at_once() -> None:
    frames = [b"a", b"b", FLUSH_FRAME, b"c", KEEPALIVE, FLUSH_FRAME, FLUSH_FRAME, b"d"]
    assert list(coalesced(frames)) == [b"ab", b"c" + KEEPALIVE, b"d"]


def test_a_frame_is_yielded_as_soon_as_its_flush_comes() -> None:
    produced: list[bytes] = []

    def source() -> Iterator[bytes]:
        for frame in (b"one", FLUSH_FRAME, b"two", FLUSH_FRAME):
            produced.append(frame)
            yield frame

    out = coalesced(source())
    assert next(out) == b"one" and produced == [b"one", FLUSH_FRAME]  # nothing read ahead

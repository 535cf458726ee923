"""Conversation files: private, atomic, searchable, exportable."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import pytest

from client.history import History, HistoryError, export_markdown
from shared.chat import Message, TextPart, Usage


def _msg(role, text):
    return Message(role=role, content=(TextPart(text),))


def test_new_save_list_rename_search_delete(tmp_path) -> None:
    history = History(tmp_path / "conversations").open()
    first = history.new("Trip to Lisbon", model="claude-emulated")
    first = first.with_message(_msg("user", "Where should I eat bacalhau?"))
    first = first.with_message(_msg("assistant", "Try Laitaria."), Usage(10, 5, 0.001))
    history.save(first)
    second = history.new("Taxes").with_message(_msg("user", "What is VAT?"))
    history.save(second)

    assert [s.title for s in history.list()] == ["Taxes", "Trip to Lisbon"]
    assert [s.title for s in history.search("BACALHAU")] == ["Trip to Lisbon"]
    assert [s.title for s in history.search("tax")] == ["Taxes"]
    assert history.search("nothing like this") == []

    history.rename(first.id, "  Lisbon   food ")
    assert history.load(first.id).title == "Lisbon food"
    assert history.load(first.id).usage == Usage(10, 5, 0.001)
    assert history.delete(second.id) is True
    assert [s.title for s in history.list()] == ["Lisbon food"]
    with pytest.raises(HistoryError):
        history.load(second.id)
    with pytest.raises(HistoryError):
        history.load("../../etc/passwd")


def test_directory_0700_and_files_0600_even_with_open_umask(tmp_path) -> None:
    old = os.umask(0)
    try:
        history = History(tmp_path / "data" / "conversations").open()
        conv = history.new("x").with_message(_msg("user", "hi"))
        history.save(conv)
    finally:
        os.umask(old)
    assert stat.S_IMODE(history.directory.stat().st_mode) == 0o700
    path = history.directory / f"{conv.id}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_export_markdown(tmp_path) -> None:
    history = History(tmp_path).open()
    conv = history.new("Notes", model="m1").with_message(_msg("user", "hello"))
    conv = conv.with_message(_msg("assistant", "```py\nprint(1)\n```"))
    text = export_markdown(conv)
    assert text.startswith("# Notes\n")
    assert "## You\n\nhello" in text
    assert "## Assistant\n\n```py\nprint(1)\n```" in text


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from client.history import History
    from shared.chat import Message, TextPart
    history = History(Path(sys.argv[1]))
    conv = history.load(sys.argv[2])
    big = "NEW " * 2_000_000   # ~8 MB: the write takes long enough to be killed midway
    conv = conv.with_message(Message(role="user", content=(TextPart(big),)))
    print("writing", flush=True)
    while True:
        history.save(conv)
    """
)


def test_a_kill_in_the_middle_of_a_write_leaves_the_old_file_intact(tmp_path) -> None:
    history = History(tmp_path / "conversations").open()
    conv = history.new("Precious").with_message(_msg("user", "the old content"))
    history.save(conv)
    path = history.directory / f"{conv.id}.json"
    before = path.read_bytes()

    for delay in (0.05, 0.15, 0.3):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(history.directory), conv.id],
            stdout=subprocess.PIPE, text=True, cwd=os.getcwd(),
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
        time.sleep(delay)
        # The writer loops: stop it mid-write once a temporary file is being filled.
        deadline = time.monotonic() + 10
        while not list(history.directory.glob(".*.tmp")) and time.monotonic() < deadline:
            time.sleep(0.001)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        stray = list(history.directory.glob(".*.tmp"))
        current = path.read_bytes()
        # Either the old version or a complete new one; never a torn file.
        newest = history.load(conv.id).messages[-1].content[0]
        assert current == before or newest.text.startswith("NEW")
        if stray:
            break
    assert stray, "the kill never landed during a write; the test proved nothing"
    assert path.read_bytes() == before or len(history.load(conv.id).messages) == 2
    History(history.directory).open()  # re-opening clears the temporaries
    assert not list(history.directory.glob(".*.tmp"))
    assert history.load(conv.id).title == "Precious"

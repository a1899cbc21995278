"""All-or-nothing output files and the terminal progress bar."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.replay.outputs import AtomicTextFile, ProgressBar


class FakeTerminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        """Pretend to be a TTY."""
        return True


def test_atomic_file_appears_only_when_the_block_succeeds(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    with AtomicTextFile(target) as out:
        out.write("one\n")
        assert not target.exists(), "nothing visible under the real name while writing"
    assert target.read_text() == "one\n"


def test_atomic_file_is_removed_and_old_file_kept_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("previous run\n")
    with pytest.raises(RuntimeError), AtomicTextFile(target) as out:
        out.write("half")
        raise RuntimeError("broke midway")
    assert target.read_text() == "previous run\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_progress_bar_draws_on_a_terminal_and_clears_its_line() -> None:
    terminal = FakeTerminal()
    bar = ProgressBar(terminal, min_interval=0)
    bar(500, 50, 100)
    bar(1000, 100, 100)
    bar.finish()
    drawn = terminal.getvalue()
    assert "50%" in drawn and "100%" in drawn and "1,000 messages" in drawn
    assert drawn.endswith("\r\x1b[2K")


def test_progress_bar_is_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream, min_interval=0)
    bar(10, 1, 2)
    bar.finish()
    assert stream.getvalue() == ""

"""Files the replay writes: all-or-nothing output files, the JSONL writer, and the terminal progress bar."""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any, TextIO

from bot.replay.run import MessageResult


class AtomicTextFile:
    """A text file written under a temporary name and renamed into place only when everything succeeded.

    On an exception inside the ``with`` block the temporary file is removed and ``path`` is left untouched,
    so a reader never finds a half-written report.
    """

    def __init__(self, path: Path) -> None:
        """Prepare to write ``path`` (its directory must exist)."""
        self.path = path
        self._handle: IO[str] | None = None
        self._temp_path: Path | None = None

    def __enter__(self) -> TextIO:
        """Open the temporary file next to ``path`` and return it."""
        # "x" mode: a fresh file with the user's usual permissions (umask), never an existing one.
        self._temp_path = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.partial")
        self._handle = open(self._temp_path, "x", encoding="utf-8", newline="\n")  # closed in __exit__
        return self._handle

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Rename the file into place on success; delete it on failure."""
        assert self._handle is not None and self._temp_path is not None
        self._handle.close()
        if exc_type is None:
            os.replace(self._temp_path, self.path)
        else:
            self._temp_path.unlink(missing_ok=True)


def result_record(result: MessageResult) -> dict[str, Any]:
    """Return the JSON object written for one message by ``heard replay --jsonl`` (no message text)."""
    message = result.message
    return {
        "id": message.id,
        "timestamp": message.timestamp.isoformat(),
        "author_id": message.author_id,
        "kind": result.kind,
        "post_id": result.post_id,
        "target_missing": result.target_missing,
        "link": result.link,
        **result.analysis.to_dict(),
    }


class JsonlSink:
    """Writes one JSON line per analysed message."""

    def __init__(self, out: TextIO) -> None:
        """Write to the open text file ``out``."""
        self._out = out
        self.lines = 0

    def write(self, result: MessageResult) -> None:
        """Write the result's line."""
        self._out.write(json.dumps(result_record(result), ensure_ascii=False, separators=(",", ":")))
        self._out.write("\n")
        self.lines += 1


class ProgressBar:
    """A one-line progress bar on a terminal's stderr; silent when stderr is not a terminal."""

    WIDTH = 28

    def __init__(self, stream: TextIO | None = None, *, min_interval: float = 0.1) -> None:
        """Draw on ``stream`` (default stderr) at most every ``min_interval`` seconds."""
        self._stream = stream or sys.stderr
        self.enabled = self._stream.isatty()
        self._min_interval = min_interval
        self._started = time.monotonic()
        self._last_draw = 0.0
        self._drawn = False

    def __call__(self, messages: int, bytes_read: int, total_bytes: int) -> None:
        """Redraw the bar for the given position (throttled)."""
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last_draw < self._min_interval and bytes_read < total_bytes:
            return
        self._last_draw = now
        share = min(1.0, bytes_read / total_bytes) if total_bytes else 1.0
        filled = int(share * self.WIDTH)
        rate = messages / max(now - self._started, 1e-9)
        bar = "█" * filled + "░" * (self.WIDTH - filled)
        self._stream.write(f"\r{bar} {share:4.0%}  {messages:,} messages  {rate:,.0f}/s ")
        self._stream.flush()
        self._drawn = True

    def finish(self) -> None:
        """Clear the bar's line so the summary starts on a clean line."""
        if self.enabled and self._drawn:
            self._stream.write("\r\x1b[2K")
            self._stream.flush()

"""The plain daily aggregate the listening-health chart is drawn from.

Counts only: no text, no member ids. The bot's storage (``daily_stats``) and the replay tool both produce
lists of :class:`DailyCounts`, so the same chart serves a live community and a replayed export.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class DailyCounts:
    """What one day (UTC) looked like in one community, summed over its watched channels.

    ``flag_outcomes`` maps ``open`` / ``resolved`` / ``false_alarm`` to the number of that day's flags with
    that outcome (empty for a replay, where no moderator decided anything).
    """

    day: date
    replies_seen: int = 0
    replies_with_move: int = 0
    reflections: int = 0
    open_questions: int = 0
    nudges_sent: int = 0
    flags_by_code: Mapping[str, int] = field(default_factory=dict)
    flag_outcomes: Mapping[str, int] = field(default_factory=dict)

    @property
    def flags(self) -> int:
        """Return the number of flags raised that day (all codes)."""
        return sum(self.flags_by_code.values())


@dataclass(slots=True)
class DayTally:
    """One day's counts while they are being added up (by the stored-stats queries or a replay)."""

    replies_seen: int = 0
    replies_with_move: int = 0
    reflections: int = 0
    open_questions: int = 0
    nudges_sent: int = 0
    flags_by_code: Counter[str] = field(default_factory=Counter)
    flag_outcomes: Counter[str] = field(default_factory=Counter)

    def freeze(self, day: date) -> DailyCounts:
        """Return the immutable row for ``day``."""
        return DailyCounts(
            day=day,
            replies_seen=self.replies_seen,
            replies_with_move=self.replies_with_move,
            reflections=self.reflections,
            open_questions=self.open_questions,
            nudges_sent=self.nudges_sent,
            flags_by_code=dict(self.flags_by_code),
            flag_outcomes=dict(self.flag_outcomes),
        )

"""Thresholds and limits of the listening engine (importing this costs nothing)."""

from __future__ import annotations

SENSITIVITY_THRESHOLDS: dict[str, float] = {"conservative": 0.8, "balanced": 0.6, "sensitive": 0.45}
"""Minimum roadblock confidence per moderation sensitivity. ``analyze`` reports every roadblock at or
above the ``sensitive`` value; its ``action`` uses the ``balanced`` value."""

REPORT_THRESHOLD = SENSITIVITY_THRESHOLDS["sensitive"]
ACTION_THRESHOLD = SENSITIVITY_THRESHOLDS["balanced"]
MAX_CHARS = 4000
"""Longest text the engine reads; anything after this is ignored (Discord's own limit is 4,000)."""

"""The privacy settings: defaults, and one readable line for each kind of bad value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from config import Settings
from config.settings import describe_validation_error


def settings(**values: object) -> Settings:
    """Build settings without reading a .env file."""
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_defaults_are_thirty_days_retention_and_seven_days_grace() -> None:
    loaded = settings()
    assert (loaded.retention_days, loaded.guild_data_grace_days) == (30, 7)


def test_values_from_the_environment_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARD_RETENTION_DAYS", " 14 ")
    monkeypatch.setenv("HEARD_GUILD_DATA_GRACE_DAYS", "0")
    loaded = settings()
    assert (loaded.retention_days, loaded.guild_data_grace_days) == (14, 0)


@pytest.mark.parametrize(
    ("field", "value", "line"),
    [
        (
            "retention_days",
            "0",
            "HEARD_RETENTION_DAYS: must be a whole number of days from 1 to 3650 (got '0')",
        ),
        ("retention_days", "a month", "HEARD_RETENTION_DAYS: must be a whole number of days from 1 to 3650"),
        ("retention_days", "2.5", "HEARD_RETENTION_DAYS: must be a whole number of days from 1 to 3650"),
        (
            "guild_data_grace_days",
            "-1",
            "HEARD_GUILD_DATA_GRACE_DAYS: must be a whole number of days from 0 to 365",
        ),
        (
            "guild_data_grace_days",
            "366",
            "HEARD_GUILD_DATA_GRACE_DAYS: must be a whole number of days from 0 to 365",
        ),
    ],
)
def test_bad_values_get_one_readable_line(field: str, value: str, line: str) -> None:
    with pytest.raises(ValidationError) as caught:
        settings(**{field: value})
    message = describe_validation_error(caught.value)
    assert message.startswith("heard: invalid setting ") and line in message
    assert "\n" not in message


def test_heard_run_with_a_bad_retention_setting_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("HEARD_")}
    env.update(
        PYTHONPATH=str(Path(__file__).resolve().parents[1]),
        HEARD_RETENTION_DAYS="forever",
        HEARD_DISCORD_TOKEN="sekrit-token-value",
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "heard: invalid setting HEARD_RETENTION_DAYS: "
        "must be a whole number of days from 1 to 3650 (got 'forever')"
    ]
    assert "sekrit" not in result.stderr + result.stdout

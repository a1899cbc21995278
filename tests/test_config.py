"""Settings: defaults, readable one-line errors with exit code 2, and the token never echoed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from config import Settings, describe_validation_error, load_settings

SECRET = "sekrit-token-value"


def clean_env(**values: str) -> dict[str, str]:
    """Return the current environment without HEARD_ variables, plus ``values``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HEARD_")}
    env.update(values)
    return env


def run_heard(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot`` in ``tmp_path`` with the given HEARD_ variables."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=clean_env(PYTHONPATH=str(Path(__file__).resolve().parents[1]), **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_defaults_are_sensible(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("HEARD_"):
            monkeypatch.delenv(key)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.discord_token is None
    assert settings.discord_api_base == "https://discord.com/api/v10"
    assert settings.discord_gateway_url == "wss://gateway.discord.gg/"
    assert settings.database_path == Path("heard.sqlite3")
    assert settings.log_level == "INFO"
    assert settings.dev_guild_id is None and settings.application_id is None


def test_environment_is_read_with_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARD_LOG_LEVEL", "debug")
    monkeypatch.setenv("HEARD_DEV_GUILD_ID", " 123456789012345678 ")
    monkeypatch.setenv("HEARD_DISCORD_TOKEN", f"Bot {SECRET}")
    monkeypatch.setenv("HEARD_DISCORD_API_BASE", "http://127.0.0.1:9/api/v10/")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.log_level == "DEBUG"
    assert settings.dev_guild_id == 123456789012345678
    assert settings.token_value() == SECRET
    assert settings.discord_api_base == "http://127.0.0.1:9/api/v10"
    assert SECRET not in repr(settings) and SECRET not in str(settings)


def test_env_file_is_optional_and_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEARD_LOG_LEVEL", raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("HEARD_LOG_LEVEL=warning\nUNRELATED=1\n", encoding="utf-8")
    assert Settings(_env_file=env_file).log_level == "WARNING"  # type: ignore[call-arg]


def test_empty_optional_values_mean_unset() -> None:
    settings = Settings(_env_file=None, discord_token="  ", dev_guild_id="", application_id="")  # type: ignore[call-arg]
    assert (
        settings.discord_token is None and settings.dev_guild_id is None and settings.application_id is None
    )


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("log_level", "LOUD", "HEARD_LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR (got 'LOUD')"),
        (
            "dev_guild_id",
            "abc",
            "HEARD_DEV_GUILD_ID: must be a Discord id, a positive whole number (got 'abc')",
        ),
        ("application_id", "-5", "HEARD_APPLICATION_ID: must be a Discord id"),
        ("discord_api_base", "discord.com", "HEARD_DISCORD_API_BASE: must be a URL starting with http"),
        ("discord_gateway_url", "https://x", "HEARD_DISCORD_GATEWAY_URL: must be a URL starting with ws"),
        ("database_path", "", "HEARD_DATABASE_PATH: must be a file path"),
    ],
)
def test_each_bad_value_gives_one_readable_line(field: str, value: str, expected: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None, **{field: value})  # type: ignore[call-arg, arg-type]
    line = describe_validation_error(raised.value)
    assert line.startswith("heard: invalid setting ")
    assert expected in line
    assert "\n" not in line


def test_database_path_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None, database_path=str(tmp_path))  # type: ignore[call-arg]
    assert "is a folder" in describe_validation_error(raised.value)


def test_bad_token_is_never_echoed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        load_settings(_env_file=None, discord_token=f"{SECRET} with spaces")
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("heard: invalid setting HEARD_DISCORD_TOKEN:")
    assert SECRET not in err


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        (
            "HEARD_LOG_LEVEL",
            "LOUD",
            "HEARD_LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR (got 'LOUD')",
        ),
        ("HEARD_DEV_GUILD_ID", "twelve", "HEARD_DEV_GUILD_ID: must be a Discord id"),
        ("HEARD_DISCORD_GATEWAY_URL", "gateway", "HEARD_DISCORD_GATEWAY_URL: must be a URL"),
        ("HEARD_DISCORD_TOKEN", f"{SECRET} x", "HEARD_DISCORD_TOKEN: must be a single word"),
    ],
)
def test_cli_exits_2_with_one_line(tmp_path: Path, variable: str, value: str, fragment: str) -> None:
    result = run_heard(tmp_path, "run", **{variable: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("heard: invalid setting ")
    assert fragment in lines[0]
    assert SECRET not in result.stderr + result.stdout


def test_every_setting_is_in_the_readme_configuration_table() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    missing = [name for name in Settings.model_fields if f"| `HEARD_{name.upper()}` |" not in table]
    assert missing == []

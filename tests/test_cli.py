"""The command line as a newcomer meets it: ``heard run``, ``heard sandbox`` and ``heard demo``, as
subprocesses. The sandbox for ``heard run`` runs in the test process, so processes are driven with asyncio."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tests.conftest import configure_guild

REPO = Path(__file__).resolve().parents[1]
PROCESS_TIMEOUT = 90.0


def heard_env(**values: str) -> dict[str, str]:
    """The environment for a ``python -m bot`` subprocess: no inherited HEARD_ settings, plus ``values``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HEARD_")}
    env["PYTHONPATH"] = str(REPO)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(values)
    return env


async def wait_until_serving(sandbox: Any) -> None:
    """Wait until a subprocess bot synced its commands (done before it connects) and is connected."""
    await sandbox.wait_until_synced(timeout=PROCESS_TIMEOUT)
    await sandbox.wait_until_connected(timeout=PROCESS_TIMEOUT)


def database_was_closed(db_path: Path) -> bool:
    """Whether the database exists and was closed cleanly (SQLite removes the WAL file on the last close)."""
    return db_path.exists() and not Path(f"{db_path}-wal").exists()


@asynccontextmanager
async def heard_process(
    *args: str, cwd: Path, env: dict[str, str]
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Start ``python -m bot ARGS`` and make sure it is gone afterwards."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def read_until(stream: asyncio.StreamReader, marker: str) -> str:
    """Read lines from ``stream`` until one contains ``marker``; return everything read."""
    seen: list[str] = []
    async with asyncio.timeout(PROCESS_TIMEOUT):
        while True:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError(f"stream ended before {marker!r}:\n{''.join(seen)}")
            seen.append(line)
            if marker in line:
                return "".join(seen)


async def test_run_without_token_says_how_to_get_one(tmp_path: Path) -> None:
    async with heard_process("run", cwd=tmp_path, env=heard_env()) as process:
        async with asyncio.timeout(PROCESS_TIMEOUT):
            _, err = await process.communicate()
    assert process.returncode == 2
    message = err.decode()
    assert "HEARD_DISCORD_TOKEN" in message and "Developer Portal" in message and "Reset Token" in message
    assert "Message Content" in message and "heard sandbox" in message
    assert "Traceback" not in message


async def run_to_exit(tmp_path: Path, env: dict[str, str]) -> tuple[int | None, str]:
    """Run ``heard run`` until it exits by itself; return its exit code and stderr."""
    async with heard_process("run", cwd=tmp_path, env=env) as process:
        async with asyncio.timeout(PROCESS_TIMEOUT):
            _, err = await process.communicate()
    return process.returncode, err.decode()


async def test_run_with_a_wrong_token_says_so(sandbox: Any, tmp_path: Path) -> None:
    env = heard_env(**sandbox.env_for_subprocess(prefix="HEARD_"))
    env["HEARD_DISCORD_TOKEN"] = "not-the-right-token"
    code, err = await run_to_exit(tmp_path, env)
    assert code == 1
    assert "Discord refused the token in HEARD_DISCORD_TOKEN" in err
    assert "not-the-right-token" not in err and "Traceback" not in err


async def test_run_against_an_unreachable_host_says_so(tmp_path: Path) -> None:
    env = heard_env(
        HEARD_DISCORD_TOKEN="some-token",
        HEARD_DISCORD_API_BASE="http://127.0.0.1:9/api/v10",
        HEARD_DISCORD_GATEWAY_URL="ws://127.0.0.1:9/",
    )
    code, err = await run_to_exit(tmp_path, env)
    assert code == 1
    assert "could not reach http://127.0.0.1:9/api/v10" in err and "Traceback" not in err


async def test_run_with_a_file_that_is_not_a_database_says_so(sandbox: Any, tmp_path: Path) -> None:
    not_a_database = tmp_path / "notes.sqlite3"
    not_a_database.write_bytes(b"these are my notes, not a database" * 100)
    env = heard_env(**sandbox.env_for_subprocess(prefix="HEARD_"), HEARD_DATABASE_PATH=str(not_a_database))
    code, err = await run_to_exit(tmp_path, env)
    assert code == 2
    assert f"heard: cannot use the database at {not_a_database}" in err and "HEARD_DATABASE_PATH" in err
    assert "Traceback" not in err


async def test_run_against_the_sandbox_serves_and_exits_0_on_sigterm(sandbox: Any, tmp_path: Path) -> None:
    db_path = tmp_path / "heard.sqlite3"
    env = heard_env(**sandbox.env_for_subprocess(prefix="HEARD_"), HEARD_DATABASE_PATH=str(db_path))
    env["HEARD_LOG_LEVEL"] = "INFO"
    async with heard_process("run", cwd=tmp_path, env=env) as process:
        await wait_until_serving(sandbox)
        responses = await configure_guild(sandbox, watch=[sandbox.scene.support])
        assert all(response.ephemeral for response in responses)
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(PROCESS_TIMEOUT):
            _, err = await process.communicate()
    log = err.decode()
    assert process.returncode == 0, log
    assert "database closed" in log
    assert database_was_closed(db_path)
    assert sandbox.token not in log


async def test_restart_as_a_new_process_keeps_the_configuration(sandbox: Any, tmp_path: Path) -> None:
    db_path = tmp_path / "heard.sqlite3"
    env = heard_env(**sandbox.env_for_subprocess(prefix="HEARD_"), HEARD_DATABASE_PATH=str(db_path))
    scene = sandbox.scene
    async with heard_process("run", cwd=tmp_path, env=env) as first:
        await wait_until_serving(sandbox)
        await configure_guild(sandbox)
        first.send_signal(signal.SIGTERM)
        async with asyncio.timeout(PROCESS_TIMEOUT):
            await first.communicate()
    assert first.returncode == 0
    async with heard_process("run", cwd=tmp_path, env=env) as second:
        await wait_until_serving(sandbox)
        interaction = await sandbox.slash(scene.admin, scene.guild, "heard status")
        response = await interaction.response(timeout=PROCESS_TIMEOUT)
        assert f"<#{scene.mod_alerts.id}>" in response.text() and "Watched channels (2)" in response.text()
        second.send_signal(signal.SIGTERM)
        async with asyncio.timeout(PROCESS_TIMEOUT):
            await second.communicate()
    assert second.returncode == 0


async def test_demo_prints_a_transcript_and_exits_0(tmp_path: Path) -> None:
    async with heard_process("demo", cwd=tmp_path, env=heard_env()) as process:
        async with asyncio.timeout(PROCESS_TIMEOUT * 2):
            out, err = await process.communicate()
    transcript = out.decode()
    assert process.returncode == 0, err.decode()[-3000:]
    assert "Heard demo" in transcript
    assert "used /heard setup mod_channel:#mod-alerts role:@Moderators" in transcript
    assert "Heard (only casey sees this):" in transcript
    assert "Heard is now listening in #support." in transcript
    assert "Only people with the Manage Server permission" in transcript
    assert "Traceback" not in err.decode()


async def test_sandbox_session_takes_typed_lines_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    db_path = tmp_path / "kept.sqlite3"
    async with heard_process("sandbox", "--db", str(db_path), cwd=tmp_path, env=heard_env()) as process:
        assert process.stdin is not None and process.stdout is not None
        await read_until(process.stdout, "Type `help`")
        process.stdin.write(b"help\nadmin> /heard watch channel:#support\nnobody> hi\n")
        await process.stdin.drain()
        seen = await read_until(process.stdout, "Heard is now listening in #support.")
        assert "reply to message #N" in seen
        process.stdin.write(b"alex> I had a really rough week\n")
        await process.stdin.drain()
        await read_until(process.stdout, "I had a really rough week")
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(PROCESS_TIMEOUT):
            _, err = await process.communicate()
    assert process.returncode == 0, err.decode()[-3000:]
    assert database_was_closed(db_path)


async def test_sandbox_session_quits_on_quit(tmp_path: Path) -> None:
    async with heard_process("sandbox", cwd=tmp_path, env=heard_env()) as process:
        async with asyncio.timeout(PROCESS_TIMEOUT):
            out, err = await process.communicate(b"who\nsam> reply 99 hello\nquit\n")
    assert process.returncode == 0, err.decode()[-3000:]
    text = out.decode()
    assert "#support" in text and "there is no message #99" in text


def test_readme_quick_start_is_two_one_line_commands_and_ci_runs_the_same() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1]
    blocks = quick_start.split("```")[1::2][:2]
    install_and_demo, install_and_test = (block.strip("\n") for block in blocks)
    assert "\n" not in install_and_demo and "\n" not in install_and_test
    assert install_and_demo.endswith("pip install . && heard demo")
    assert install_and_test.endswith("pip install '.[test]' && pytest")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install --quiet '.[test]'" in ci and "\npytest\n" in ci
    assert "ruff check .\n" in ci and "ruff format --check .\n" in ci and "\nmypy\n" in ci

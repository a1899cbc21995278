"""Shared fixtures: a running sandbox with the default scene, Heard started in-process against it, and a
helper that configures the guild through real slash commands. See ``tests/README.md``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import discord
import pytest

from bot.bot import HeardBot, start_until_serving
from config import Settings

START_TIMEOUT = 30.0
ANSWER_TIMEOUT = 30.0
GUILD_READY_TIMEOUT = 0.2
"""Seconds discord.py waits for more guilds after READY; the sandbox sends them at once."""


class StartHeard(Protocol):
    """``await start_heard(db_path=..., **setting_overrides)`` starts Heard against the sandbox."""

    def __call__(self, db_path: Path | None = None, **setting_overrides: Any) -> Awaitable[HeardBot]:
        """Start a HeardBot in-process and return it once it is ready and its commands are synced."""
        ...


@pytest.fixture
async def sandbox() -> AsyncIterator[Any]:
    """A running sandbox whose world holds the default support server in ``sandbox.scene``."""
    from bot.sandbox import Sandbox

    running = await Sandbox.start()
    running.scene = running.world.seed_default()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """The SQLite file a test's Heard uses."""
    return tmp_path / "heard.sqlite3"


def sandbox_settings(sandbox: Any, db_path: Path, **overrides: Any) -> Settings:
    """Return Heard's settings pointing at ``sandbox`` and ``db_path`` (no .env file is read)."""
    values: dict[str, Any] = {
        "discord_token": sandbox.token,
        "discord_api_base": sandbox.api_base,
        "discord_gateway_url": sandbox.gateway_url,
        "database_path": db_path,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def stop_bot(bot: HeardBot, task: asyncio.Task[None]) -> None:
    """Close ``bot`` and wait for its start task to finish."""
    await bot.close()
    with contextlib.suppress(asyncio.CancelledError):
        async with asyncio.timeout(START_TIMEOUT):
            await task


@pytest.fixture
async def start_heard(sandbox: Any, db_path: Path) -> AsyncIterator[StartHeard]:
    """A factory: ``bot = await start_heard(db_path=..., **setting_overrides)`` starts Heard against the
    sandbox and waits until it is ready with commands synced. Call it again on the same ``db_path`` after
    ``await bot.close()`` to restart. Every started bot is stopped at teardown."""
    saved_base = discord.http.Route.BASE
    saved_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    started: list[tuple[HeardBot, asyncio.Task[None]]] = []

    async def start(db_path: Path | None = db_path, **setting_overrides: Any) -> HeardBot:
        settings = sandbox_settings(sandbox, db_path or Path("heard.sqlite3"), **setting_overrides)
        bot = HeardBot(settings, guild_ready_timeout=GUILD_READY_TIMEOUT)
        task = await start_until_serving(bot, sandbox.token, within=START_TIMEOUT)
        started.append((bot, task))
        return bot

    try:
        yield start
    finally:
        for bot, task in reversed(started):
            await stop_bot(bot, task)
        discord.http.Route.BASE = saved_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved_gateway


@pytest.fixture
async def heard(start_heard: StartHeard, db_path: Path) -> HeardBot:
    """Heard, started against the sandbox on ``db_path`` (not yet configured: see ``configure_guild``)."""
    return await start_heard(db_path=db_path)


async def configure_guild(
    sandbox: Any,
    watch: Iterable[Any] | None = None,
    *,
    mod_channel: Any | None = None,
    mod_role: Any | None = None,
) -> list[Any]:
    """Run ``/heard setup`` and ``/heard watch`` as the scene's admin through real slash interactions.

    ``watch`` defaults to the scene's ``support`` channel and ``vent`` forum; pass ``[]`` to watch
    nothing. Waits for each answer and returns the interaction responses (setup first).
    """
    scene = sandbox.scene
    channels: Sequence[Any] = list(watch) if watch is not None else [scene.support, scene.vent]
    responses: list[Any] = []
    setup = await sandbox.slash(
        scene.admin,
        scene.guild,
        "heard setup",
        mod_channel=mod_channel or scene.mod_alerts,
        role=mod_role or scene.mod_role,
    )
    responses.append(await setup.response(timeout=ANSWER_TIMEOUT))
    for channel in channels:
        interaction = await sandbox.slash(scene.admin, scene.guild, "heard watch", channel=channel)
        responses.append(await interaction.response(timeout=ANSWER_TIMEOUT))
    return responses


@pytest.fixture
def configure() -> Callable[..., Awaitable[list[Any]]]:
    """The :func:`configure_guild` helper as a fixture, for tests that prefer fixtures to imports."""
    return configure_guild

"""Run any discord.py client against a :class:`~bot.sandbox.server.Sandbox`, in-process.

discord.py needs two overrides: ``discord.http.Route.BASE`` (REST, also used for interaction/webhook calls)
and ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (a plain Client never asks ``/gateway``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, TypeVar

from bot.sandbox.records import DEFAULT_TIMEOUT, SandboxTimeout

if TYPE_CHECKING:
    import discord

    from bot.sandbox.server import Sandbox

ClientT = TypeVar("ClientT", bound="discord.Client")


@contextlib.contextmanager
def point_discord_py_at(sandbox: Sandbox) -> Iterator[None]:
    """Point discord.py's REST base and gateway URL at the sandbox; restore the old values on exit."""
    import discord.gateway
    import discord.http
    import yarl

    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = sandbox.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(sandbox.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


@contextlib.asynccontextmanager
async def running_client(
    sandbox: Sandbox,
    client: ClientT,
    *,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    token: str | None = None,
) -> AsyncIterator[ClientT]:
    """Start ``client`` against the sandbox, wait until it is ready, yield it, then close it cleanly.

    If the client fails to start (an exception in ``setup_hook``, a bad token), that exception is raised.
    """
    with point_discord_py_at(sandbox):
        task = asyncio.create_task(client.start(token or sandbox.token), name="sandbox-client")
        try:
            await _wait_ready(sandbox, client, task, timeout)
            yield client
        finally:
            await client.close()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout)


async def _wait_ready(
    sandbox: Sandbox,
    client: discord.Client,
    task: asyncio.Task[None],
    timeout: float,  # noqa: ASYNC109
) -> None:
    async def connected_then_ready() -> None:
        await sandbox.wait_until_connected(timeout=timeout)
        await client.wait_until_ready()

    waiter = asyncio.create_task(connected_then_ready())
    done, _ = await asyncio.wait({task, waiter}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiter
        task.result()  # re-raise the client's failure
        raise RuntimeError("the discord.py client stopped before it became ready")
    if waiter not in done:
        waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiter
        raise SandboxTimeout(f"the discord.py client was not ready after {timeout:.0f}s")
    waiter.result()

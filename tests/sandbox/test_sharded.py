"""An AutoShardedBot asks ``/gateway/bot`` and needs READY.shard echoed."""

from __future__ import annotations

import discord
from discord.ext import commands

from bot.sandbox import Sandbox, Scene, running_client


class ShardedProbe(commands.AutoShardedBot):
    """Minimal sharded client."""

    def __init__(self) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents.default(), guild_ready_timeout=0.1)


async def test_auto_sharded_bot_connects(sandbox: Sandbox, scene: Scene) -> None:
    bot = ShardedProbe()
    async with running_client(sandbox, bot):
        assert bot.get_guild(scene.guild.id) is not None
        assert bot.shard_count == 1
    assert any(call.route == "/gateway/bot" for call in sandbox.calls)

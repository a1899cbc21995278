"""The sandbox computes permissions exactly as discord.py does from the same gateway state (seeded cases)."""

from __future__ import annotations

import datetime as dt
import random

import discord

from bot.sandbox import Overwrite, Sandbox, Scene
from bot.sandbox import permissions as perms
from tests.sandbox.probe_bot import ProbeBot

TEXT_BITS = (
    perms.VIEW_CHANNEL
    | perms.SEND_MESSAGES
    | perms.EMBED_LINKS
    | perms.ATTACH_FILES
    | perms.READ_MESSAGE_HISTORY
    | perms.MANAGE_MESSAGES
    | perms.ADD_REACTIONS
    | perms.MENTION_EVERYONE
    | perms.SEND_MESSAGES_IN_THREADS
    | perms.CREATE_PUBLIC_THREADS
)
CHOICES = [
    perms.VIEW_CHANNEL,
    perms.SEND_MESSAGES_IN_THREADS,
    perms.SEND_MESSAGES,
    perms.EMBED_LINKS,
    perms.ATTACH_FILES,
    perms.READ_MESSAGE_HISTORY,
    perms.MANAGE_MESSAGES,
    perms.ADMINISTRATOR,
]


def random_bits(rng: random.Random, chance: float) -> int:
    value = 0
    for bit in CHOICES:
        if rng.random() < chance and (bit != perms.ADMINISTRATOR or rng.random() < 0.2):
            value |= bit
    return value


async def test_permissions_agree_with_discord_py(sandbox: Sandbox, scene: Scene, probe: ProbeBot) -> None:
    world = sandbox.world
    rng = random.Random(20261126)
    roles = [world.add_role(scene.guild, f"role-{n}") for n in range(3)]
    room = world.add_text_channel(scene.guild, "room")
    thread = await sandbox.start_thread(scene.owner, room, "a thread", "first")
    await probe.log.wait_for("thread_create", lambda t: bool(t.id == thread.id))
    subjects = [scene.alex, scene.sam, scene.jo]
    for case in range(25):
        world.set_role_permissions(
            scene.guild.everyone, perms.DEFAULT_EVERYONE_PERMISSIONS & ~random_bits(rng, 0.3)
        )
        for role in roles:
            world.set_role_permissions(role, random_bits(rng, 0.3))
        for user in subjects:
            until = (
                (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat() if rng.random() < 0.15 else None
            )
            chosen = [role for role in roles if rng.random() < 0.5]
            world.update_member(scene.guild, user, roles=chosen, communication_disabled_until=until)
        overwrites = [Overwrite(scene.guild, allow=random_bits(rng, 0.2), deny=random_bits(rng, 0.2))]
        overwrites += [Overwrite(r, allow=random_bits(rng, 0.2), deny=random_bits(rng, 0.2)) for r in roles]
        overwrites.append(Overwrite(scene.alex, allow=random_bits(rng, 0.2), deny=random_bits(rng, 0.2)))
        for overwrite in overwrites:
            overwrite.allow &= ~perms.ADMINISTRATOR
            overwrite.deny &= ~perms.ADMINISTRATOR
        world.set_overwrites(room, overwrites)
        # a barrier: once the bot saw this message, it processed every update sent before it
        barrier = await sandbox.member_says(scene.owner, scene.general, f"barrier {case}")
        barrier_id = barrier.id
        await probe.log.wait_for("message", lambda m: bool(m.id == barrier_id))  # noqa: B023
        guild = probe.get_guild(scene.guild.id)
        assert guild is not None
        channel = guild.get_channel(room.id)
        assert isinstance(channel, discord.TextChannel)
        discord_thread = guild.get_thread(thread.id)
        assert discord_thread is not None
        for user in [*subjects, scene.moderator, scene.owner]:
            member = guild.get_member(user.id)
            assert member is not None
            expected = channel.permissions_for(member).value & TEXT_BITS
            assert world.permissions_for(user, room) & TEXT_BITS == expected, (case, user.name)
            in_thread = discord_thread.permissions_for(member).value & TEXT_BITS
            assert world.permissions_for(user, thread) & TEXT_BITS == in_thread, (case, user.name, "thread")

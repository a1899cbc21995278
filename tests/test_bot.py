"""The bot itself: connects and syncs, minimal intents and mentions, survives REST faults and dropped
gateway connections, loads every cog, and answers unexpected command errors in one sentence."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot.bot import HeardBot, discover_extensions, heard_intents
from bot.replies import SORRY, answer_failures
from bot.tree import SOMETHING_WENT_WRONG
from tests.conftest import ANSWER_TIMEOUT, configure_guild

CALLBACK_ROUTE = "/interactions/{interaction_id}/{interaction_token}/callback"


async def status_text(sandbox: Any) -> str:
    scene = sandbox.scene
    interaction = await sandbox.slash(scene.admin, scene.guild, "heard status")
    response = await interaction.response(timeout=ANSWER_TIMEOUT)
    assert response.ephemeral
    return str(response.text())


async def test_connects_and_syncs_its_commands(sandbox: Any, heard: HeardBot) -> None:
    assert heard.is_ready() and heard.user is not None and heard.user.id == sandbox.bot_user.id
    assert "heard" in heard.synced_command_names
    sync_calls = [
        call for call in sandbox.calls if call.method == "PUT" and call.route and "commands" in call.route
    ]
    assert sync_calls and sync_calls[-1].status == 200
    heard_command = next(command for command in sync_calls[-1].json if command["name"] == "heard")
    subcommands = {option["name"] for option in heard_command["options"]}
    assert {"setup", "watch", "unwatch", "status"} <= subcommands
    assert str(heard_command["default_member_permissions"]) == str(
        discord.Permissions(manage_guild=True).value
    )
    assert not heard_command.get("dm_permission", True) or heard_command.get("contexts") == [0]


async def test_dev_guild_sync_goes_to_that_guild(sandbox: Any, start_heard: Any) -> None:
    guild_id = sandbox.scene.guild.id
    bot = await start_heard(dev_guild_id=guild_id)
    assert "heard" in bot.synced_command_names
    assert any(
        call.method == "PUT" and call.path.endswith(f"/guilds/{guild_id}/commands") for call in sandbox.calls
    )
    assert await status_text(sandbox)


def test_intents_and_mentions_are_minimal(tmp_path: Path) -> None:
    intents = heard_intents()
    assert intents.guilds and intents.guild_messages and intents.message_content and intents.dm_messages
    assert not intents.members and not intents.presences and not intents.guild_reactions
    from tests.conftest import Settings

    bot = HeardBot(Settings(_env_file=None, database_path=tmp_path / "h.sqlite3"))  # type: ignore[call-arg]
    mentions = bot.allowed_mentions
    assert mentions is not None
    assert mentions.everyone is False and mentions.roles is False and mentions.replied_user is False


def test_every_cog_module_with_setup_is_discovered() -> None:
    names = discover_extensions()
    assert "cogs.setup" in names
    assert all(not name.split(".")[-1].startswith("_") for name in names)


async def test_a_500_on_the_interaction_callback_is_retried(sandbox: Any, heard: HeardBot) -> None:
    await configure_guild(sandbox, watch=[])
    sandbox.faults.fail_next("POST", CALLBACK_ROUTE, status=500, count=1)
    assert f"<#{sandbox.scene.mod_alerts.id}>" in await status_text(sandbox)
    failed = [call for call in sandbox.calls if call.route == CALLBACK_ROUTE and call.status == 500]
    assert len(failed) == 1


async def test_a_429_is_waited_out(sandbox: Any, heard: HeardBot) -> None:
    sandbox.faults.fail_next("POST", CALLBACK_ROUTE, status=429, retry_after=0.05, count=1)
    assert "Moderator channel" in await status_text(sandbox)


async def test_a_dropped_gateway_connection_resumes_and_keeps_serving(sandbox: Any, heard: HeardBot) -> None:
    await configure_guild(sandbox, watch=[sandbox.scene.support])
    resumes_before = sandbox.hub.resume_count
    await sandbox.drop_gateway(close_code=4000)
    await sandbox.wait_until_reconnected(timeout=ANSWER_TIMEOUT)
    assert sandbox.hub.resume_count == resumes_before + 1  # RESUMEd the session, did not start over
    assert "Watched channels (1)" in await status_text(sandbox)
    assert not heard.is_closed()


async def test_an_invalidated_session_identifies_again_and_keeps_serving(
    sandbox: Any, heard: HeardBot
) -> None:
    sandbox.invalidate_session(resumable=False)
    await sandbox.wait_until_reconnected(timeout=ANSWER_TIMEOUT)
    assert "Moderator channel" in await status_text(sandbox)


class ExplodingCog(commands.Cog):
    heard = app_commands.Group(name="heard", description="Heard setup and moderation", guild_only=True)

    @heard.command(name="explode", description="Fail on purpose")
    async def explode(self, interaction: discord.Interaction[Any]) -> None:
        raise RuntimeError("a private detail that must not reach the member")

    @heard.command(name="explode-late", description="Fail after deferring")
    async def explode_late(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True)
        raise RuntimeError("late failure")


async def test_an_unexpected_error_is_answered_in_one_sentence_and_logged(
    sandbox: Any, heard: HeardBot, caplog: pytest.LogCaptureFixture
) -> None:
    scene = sandbox.scene
    await heard.add_cog(ExplodingCog())
    await heard.sync_commands()
    with caplog.at_level(logging.ERROR, logger="bot.tree"):
        interaction = await sandbox.slash(scene.admin, scene.guild, "heard explode")
        response = await interaction.response(timeout=ANSWER_TIMEOUT)
        assert response.ephemeral and response.content == SOMETHING_WENT_WRONG

        late = await sandbox.slash(scene.admin, scene.guild, "heard explode-late")
        followups = await late.followups(count=1, timeout=ANSWER_TIMEOUT)
        assert followups[0].content == SOMETHING_WENT_WRONG
        assert followups[0].flags & 64
    errors = [record for record in caplog.records if record.name == "bot.tree"]
    assert len(errors) == 2 and all(record.exc_info for record in errors)


async def test_message_text_never_reaches_the_logs_at_info_or_above(
    sandbox: Any, heard: HeardBot, caplog: pytest.LogCaptureFixture
) -> None:
    """Members' words are health information: whatever the cogs do with them, INFO+ logs hold no text."""
    scene = sandbox.scene
    marker = "zq-private-words-7731"
    caplog.set_level(logging.INFO)
    await configure_guild(sandbox)
    seen: list[str] = []
    all_seen = asyncio.Event()

    async def on_message(message: discord.Message) -> None:
        if marker in message.content:
            seen.append(message.content)
            if len(seen) == 5:
                all_seen.set()

    heard.add_listener(on_message, "on_message")
    post = await sandbox.member_says(scene.alex, scene.support, f"I feel like a burden to everyone {marker}")
    await sandbox.member_says(
        scene.sam,
        scene.support,
        f"You should just stop feeling sorry for yourself {marker}",
        reply_to=post.id,
    )
    await sandbox.start_thread(scene.jo, scene.vent, "tired", f"nothing I do matters anymore {marker}")
    await sandbox.dm_bot(scene.riley, f"can I talk to someone {marker}")
    await sandbox.member_says(scene.riley, scene.general, f"unwatched words {marker}")
    async with asyncio.timeout(ANSWER_TIMEOUT):
        await all_seen.wait()
    assert "Watched channels (2)" in await status_text(sandbox)  # one more full round trip through Heard

    leaked = [
        f"{record.name}: {record.levelname}"
        for record in caplog.records
        if record.levelno >= logging.INFO
        and (marker in record.getMessage() or (record.exc_text is not None and marker in record.exc_text))
    ]
    assert leaked == []


class BrokenButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"test:broken:(?P<n>\d+)"):
    def __init__(self, n: int) -> None:
        super().__init__(discord.ui.Button(label="Break", custom_id=f"test:broken:{n}"))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Button[Any], match: Any
    ) -> BrokenButton:
        return cls(int(match["n"]))

    @answer_failures
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        raise RuntimeError("a button bug")


class BrokenButtonCog(commands.Cog):
    heard = app_commands.Group(name="heard", description="Heard setup and moderation", guild_only=True)

    @heard.command(name="broken-button", description="Post a button that fails")
    async def post(self, interaction: discord.Interaction[Any]) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(BrokenButton(7))
        await interaction.response.send_message("Press it.", view=view)


async def test_a_failing_button_is_answered_privately(
    sandbox: Any, heard: HeardBot, caplog: pytest.LogCaptureFixture
) -> None:
    scene = sandbox.scene
    heard.add_dynamic_items(BrokenButton)
    await heard.add_cog(BrokenButtonCog())
    await heard.sync_commands()
    posted = await (await sandbox.slash(scene.admin, scene.guild, "heard broken-button")).response(
        timeout=ANSWER_TIMEOUT
    )
    with caplog.at_level(logging.ERROR, logger="bot.replies"):
        click = await sandbox.click(scene.alex, posted.message, "test:broken:7")
        answer = await click.response(timeout=ANSWER_TIMEOUT)
    assert answer.ephemeral and answer.content == SORRY
    assert any(record.exc_info for record in caplog.records if record.name == "bot.replies")

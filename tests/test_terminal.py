"""``heard sandbox``'s typing loop, in-process: each kind of line, Heard's live messages, and bad lines."""

from __future__ import annotations

import io
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot.bot import HeardBot
from bot.demo import DemoContext
from bot.terminal import Session, build_aliases, handle_line, live_printer, parse_command
from bot.transcript import Transcript
from tests.conftest import ANSWER_TIMEOUT


class EchoView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Thanks", custom_id="test:thanks")
    async def thanks(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        await interaction.response.send_message("You're welcome.", ephemeral=True)


class ChattyCog(commands.Cog):
    """Answers 'ping' in any channel with a message it then edits."""

    def __init__(self, bot: HeardBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot:
            return
        if message.content == "ping":
            sent = await message.channel.send("pong", view=EchoView())
            await sent.edit(content="pong (edited)")

    @app_commands.command(name="echo", description="Echo text privately")
    async def echo(self, interaction: discord.Interaction[Any], text: str) -> None:
        await interaction.response.send_message(f"echo: {text}", ephemeral=True)


@app_commands.context_menu(name="Count words")
async def count_words(interaction: discord.Interaction[Any], message: discord.Message) -> None:
    await interaction.response.send_message(f"{len(message.content.split())} words", ephemeral=True)


@pytest.fixture
async def session(sandbox: Any, heard: HeardBot) -> tuple[Session, io.StringIO]:
    cog = ChattyCog(heard)
    await heard.add_cog(cog)
    heard.tree.add_command(count_words)
    await heard.sync_commands()
    out = io.StringIO()
    context = DemoContext(
        sandbox=sandbox, scene=sandbox.scene, bot=heard, transcript=Transcript(sandbox, out)
    )
    result = Session(
        context=context, out=out, channel=sandbox.scene.support, aliases=build_aliases(sandbox.scene)
    )
    sandbox.on_event(live_printer(result))
    return result, out


async def wait_for_text(out: io.StringIO, text: str, sandbox: Any) -> None:
    """Wait until ``text`` was printed (the printer runs whenever the sandbox sees Heard act)."""
    await sandbox.notifier.wait_for(lambda: text in out.getvalue(), timeout=ANSWER_TIMEOUT, what=repr(text))


def test_parse_command_reads_typed_options(sandbox: Any) -> None:
    scene = sandbox.scene
    context = DemoContext(
        sandbox=sandbox, scene=scene, bot=None, transcript=Transcript(sandbox, io.StringIO())
    )  # type: ignore[arg-type]
    session = Session(context=context, out=io.StringIO(), channel=scene.support, aliases=build_aliases(scene))
    command, options = parse_command(
        session, "heard setup mod_channel:#mod-alerts role:@Moderators count:3 on:true note:two words here"
    )
    assert command == "heard setup"
    assert options == {
        "mod_channel": scene.mod_alerts,
        "role": scene.mod_role,
        "count": 3,
        "on": True,
        "note": "two words here",
    }


async def test_each_kind_of_line(session: tuple[Session, io.StringIO], sandbox: Any) -> None:
    terminal, out = session
    lines = [
        "help",
        "who",
        "alex> I had a rough week",
        "sam> reply 1 that sounds hard",
        "jo> #general ping",
    ]
    for line in lines:
        assert await handle_line(terminal, line)
    await wait_for_text(out, "pong (edited)", sandbox)
    pong = next(m for m in sandbox.messages_in(sandbox.scene.general) if m.content.startswith("pong"))
    more = [
        f"jo> click {pong.serial} Thanks",
        "riley> dm hello?",
        "riley> thread #vent Tired | nothing works",
        "casey> /echo text:hi there",
        f"alex> menu {pong.serial} Count words",
        "alex> delete 1",
    ]
    for line in more:
        assert await handle_line(terminal, line)
    await wait_for_text(out, "was deleted", sandbox)
    assert not await handle_line(terminal, "quit")

    text = out.getvalue()
    assert "NAME> reply N text" in text and "channels: #general, #mod-alerts, #support, #vent" in text
    assert "#1 [#support] alex:" in text and "[#support] sam (replying to #1):" in text
    assert "[#general] jo:" in text and "Heard (in #general):" in text and "Heard (updated #" in text
    assert f"jo pressed [Thanks] on #{pong.serial}" in text and "You're welcome." in text
    assert "[DM with riley] riley:" in text and "[#vent › Tired] riley:" in text
    assert "casey used /echo text:hi there" in text and "echo: hi there" in text
    assert f"alex used the menu 'Count words' on #{pong.serial}" in text and "2 words" in text
    assert text.count("pong (edited)") == 1


async def test_bad_lines_get_a_hint_not_a_crash(session: tuple[Session, io.StringIO], sandbox: Any) -> None:
    terminal, out = session
    for line in [
        "hello there",
        "bob> hi",
        "alex>",
        "alex> reply 99 hi",
        "alex> reply x hi",
        "alex> #nowhere hi",
        "casey> /heard nope",
        "alex> /heard status",
        "alex> click 1 Nope",
        "   ",
    ]:
        assert await handle_line(terminal, line)
    text = out.getvalue()
    assert "type `help`" in text
    assert "no member called 'bob'" in text and "write something after the >" in text
    assert "there is no message #99" in text and "'x' is not a message number" in text
    assert "no channel called #nowhere" in text and "no subcommand 'nope'" in text
    assert "cannot see /heard" in text
    assert "Traceback" not in text

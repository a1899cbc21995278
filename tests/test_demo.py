"""The demo runner and its context: step discovery, and the transcript of slash commands, buttons and DMs."""

from __future__ import annotations

import io
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot.bot import HeardBot
from bot.demo import DemoContext, discover_steps, find_button
from bot.transcript import Transcript


class PressView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Press me", custom_id="test:press")
    async def press(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        await interaction.response.edit_message(content="Pressed, thank you.", view=None)


class DemoHelpersCog(commands.Cog):
    heard = app_commands.Group(name="heard", description="Heard setup and moderation", guild_only=True)

    def __init__(self, bot: HeardBot) -> None:
        self.bot = bot

    @heard.command(name="buttons", description="Post a message with a button")
    async def buttons(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message("Here is a button.", view=PressView())

    @heard.command(name="dm-me", description="Send a DM")
    async def dm_me(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.user.send(f"A private hello, <@{interaction.user.id}>.")
        await interaction.response.send_message("Sent you a DM.", ephemeral=True)


@pytest.fixture
async def context(sandbox: Any, heard: HeardBot) -> tuple[DemoContext, io.StringIO]:
    await heard.add_cog(DemoHelpersCog(heard))
    await heard.sync_commands()
    out = io.StringIO()
    return DemoContext(
        sandbox=sandbox, scene=sandbox.scene, bot=heard, transcript=Transcript(sandbox, out)
    ), out


def test_steps_are_discovered_in_order() -> None:
    steps = discover_steps()
    assert steps[0].name == "setup_steps" and steps[0].title == "An admin sets Heard up"
    assert [step.order for step in steps] == sorted(step.order for step in steps)


async def test_slash_click_and_dm_read_well(context: tuple[DemoContext, io.StringIO]) -> None:
    ctx, out = context
    scene = ctx.scene
    await ctx.member_says(scene.alex, scene.support, f"Hello <#{scene.support.id}>")
    response = await ctx.slash(scene.admin, "heard buttons")
    assert not response.ephemeral
    message = response.message
    with pytest.raises(ValueError, match=r"has no button 'Nope' \(its buttons: \[Press me\]\)"):
        find_button(message, "Nope")
    await ctx.click(scene.alex, message, "press me")
    await ctx.slash(scene.jo, "heard dm-me", force=True)
    await ctx.wait_for_dm(scene.jo)

    text = out.getvalue()
    assert "[#support] alex:" in text and "Hello #support" in text
    assert "casey used /heard buttons" in text
    assert "Heard (visible to everyone):" in text and "buttons: [Press me]" in text
    assert f"alex pressed [Press me] on #{message.serial}" in text
    assert f"Heard (updated #{message.serial}):" in text and "Pressed, thank you." in text
    assert "Heard (only jo sees this):" in text and "Sent you a DM." in text
    assert "Heard (DM to jo, private):" in text and "A private hello, @jo." in text
    assert ctx.show_unseen() == []

"""``/reflect text:`` and the "Suggest a reflection" message menu: private ideas for reflecting back a post.

Each answer is ephemeral: two or three reflections and one open question from the engine, the feelings
it heard, and the line saying these are software-written suggestions. "Other ideas" rotates the wording.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.listening import reflect
from bot.replies import answer_failures, send_private
from cogs._member_common import NO_MENTIONS, format_reflection, member_texts, text_problem

if TYPE_CHECKING:
    from bot.bot import HeardBot

IDEAS_TIMEOUT_SECONDS = 14 * 60
"""Discord lets an ephemeral answer be edited for 15 minutes; the button stops a little before."""


class OtherIdeasButton(discord.ui.Button["OtherIdeasView"]):
    """The "Other ideas" button: each press shows the same post reflected with the next set of stems."""

    def __init__(self) -> None:
        """Label the button from the texts file."""
        super().__init__(label=member_texts().get("reflect.other_ideas"), style=discord.ButtonStyle.secondary)

    @answer_failures
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Replace the answer with reflections written with different stems."""
        view = self.view
        if view is None or interaction.user.id != view.owner_id:
            await send_private(interaction, member_texts().get("reflect.expired"))
            return
        view.variant += 1
        reflection = reflect(view.text, variant=view.variant)
        await interaction.response.edit_message(
            content=format_reflection(reflection), view=view, allowed_mentions=NO_MENTIONS
        )


class OtherIdeasView(discord.ui.View):
    """The view under a reflection answer. The text stays in memory only (never stored), for as long
    as the ephemeral answer can be edited."""

    def __init__(self, text: str, owner_id: int) -> None:
        """Remember the text to reflect and who asked."""
        super().__init__(timeout=IDEAS_TIMEOUT_SECONDS)
        self.text = text
        self.owner_id = owner_id
        self.variant = 0
        self.add_item(OtherIdeasButton())


class Reflect(commands.Cog):
    """Private reflection ideas for any post a member wants to answer well."""

    def __init__(self, bot: HeardBot) -> None:
        """Keep the bot and build the "Suggest a reflection" message menu."""
        self.bot = bot
        self.suggest_menu = app_commands.ContextMenu(
            name="Suggest a reflection", callback=self.suggest_for_message
        )

    async def cog_load(self) -> None:
        """Register the message menu with the command tree."""
        self.bot.tree.add_command(self.suggest_menu)

    async def cog_unload(self) -> None:
        """Remove the message menu from the command tree."""
        self.bot.tree.remove_command(self.suggest_menu.name, type=self.suggest_menu.type)

    @app_commands.command(
        name="reflect",
        description="Private ideas for reflecting back what someone shared (only you see them)",
    )
    @app_commands.describe(text="The words someone shared, pasted here")
    async def reflect_command(self, interaction: discord.Interaction[Any], text: str) -> None:
        """Answer privately with reflections of ``text``."""
        await self.answer(interaction, text, from_message=False)

    async def suggest_for_message(
        self, interaction: discord.Interaction[Any], message: discord.Message
    ) -> None:
        """Answer privately with reflections of the message the member picked."""
        await self.answer(interaction, message.content, from_message=True)

    async def answer(self, interaction: discord.Interaction[Any], text: str, *, from_message: bool) -> None:
        """Send the ephemeral reflection answer, or a kind sentence if the text can't be used."""
        problem = text_problem(text, from_message=from_message)
        if problem is not None:
            await send_private(interaction, problem)
            return
        reflection = reflect(text)
        await interaction.response.send_message(
            format_reflection(reflection),
            view=OtherIdeasView(text, interaction.user.id),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


async def setup(bot: HeardBot) -> None:
    """Load /reflect and the "Suggest a reflection" menu."""
    await bot.add_cog(Reflect(bot))

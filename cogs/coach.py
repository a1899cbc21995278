"""``/coach draft:`` and the "Check my reply" message menu: private, just-in-time feedback on a reply.

The answer is ephemeral: what the reply already does well (its listening moves), what to reconsider
(each roadblock with the quoted words, the reason and a try-instead), and an opening reflection for the
post it answers (a Discord reply's target, or the thread's first post).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.listening import analyze, reflect
from bot.listening.types import Reflection
from bot.replies import send_private
from bot.support import resolve_post, thread_starter
from cogs._member_common import NO_MENTIONS, format_coaching, member_texts, text_problem

if TYPE_CHECKING:
    from bot.bot import HeardBot


class Coach(commands.Cog):
    """Private coaching on a draft or on a member's own sent reply."""

    def __init__(self, bot: HeardBot) -> None:
        """Keep the bot and build the "Check my reply" message menu."""
        self.bot = bot
        self.check_menu = app_commands.ContextMenu(name="Check my reply", callback=self.check_my_reply)

    async def cog_load(self) -> None:
        """Register the message menu with the command tree."""
        self.bot.tree.add_command(self.check_menu)

    async def cog_unload(self) -> None:
        """Remove the message menu from the command tree."""
        self.bot.tree.remove_command(self.check_menu.name, type=self.check_menu.type)

    @app_commands.command(name="coach", description="Private feedback on a reply before you send it")
    @app_commands.describe(draft="Your draft reply (inside a thread, its first post is used as context)")
    async def coach_command(self, interaction: discord.Interaction[Any], draft: str) -> None:
        """Coach a draft; inside someone else's thread, the thread's first post is the context."""
        problem = text_problem(draft)
        if problem is not None:
            await send_private(interaction, problem)
            return
        post: discord.Message | None = None
        channel = interaction.channel
        if isinstance(channel, discord.Thread) and channel.owner_id != interaction.user.id:
            if channel.starter_message is None:  # fetching it may take a moment: answer "thinking" first
                await interaction.response.defer(ephemeral=True, thinking=True)
            post = await thread_starter(channel)
        await self.answer(interaction, draft, post)

    async def check_my_reply(self, interaction: discord.Interaction[Any], message: discord.Message) -> None:
        """Coach a message the member sent; anyone else's message gets a kind explanation instead."""
        if message.author.id != interaction.user.id:
            await send_private(interaction, member_texts().get("coach.not_your_message"))
            return
        problem = text_problem(message.content, from_message=True)
        if problem is not None:
            await send_private(interaction, problem)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        post = await resolve_post(message, self.bot)
        await self.answer(interaction, message.content, post)

    async def answer(
        self, interaction: discord.Interaction[Any], draft: str, post: discord.Message | None
    ) -> None:
        """Analyse the draft (as a reply to ``post`` if there is one) and send the ephemeral feedback."""
        if post is not None and (post.author.id == interaction.user.id or post.author.bot):
            post = None  # their own post or a bot's message is not a support post they are answering
        post_text = post.content if post is not None and text_problem(post.content) is None else None
        analysis = analyze(draft, post=post_text)
        post_reflection: Reflection | None = reflect(post_text) if post_text else None
        content = format_coaching(analysis, post_reflection)
        if interaction.response.is_done():  # deferred (ephemeral, "thinking") while the post was fetched
            await interaction.edit_original_response(content=content, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(content, ephemeral=True, allowed_mentions=NO_MENTIONS)


async def setup(bot: HeardBot) -> None:
    """Load /coach and the "Check my reply" menu."""
    await bot.add_cog(Coach(bot))

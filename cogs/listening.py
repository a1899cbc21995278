"""The one ``on_message`` listener for support traffic: analyse each message once, then tell the other cogs.

For a message in a watched channel, in a thread of a watched forum or text channel, or in a DM to Heard
(never from a bot), it finds the post being answered, calls the engine once, and dispatches
``heard_message`` with a :class:`bot.support.SupportMessage`. The nudges cog nudges; the moderation cog
flags and escalates. Nothing is stored here and no message text is logged.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.listening import analyze, analyze_post
from bot.listening.types import Analysis
from bot.support import HEARD_MESSAGE_EVENT, ConversationMemory, StarterCache, SupportMessage, resolve_post

if TYPE_CHECKING:
    from bot.bot import HeardBot

log = logging.getLogger(__name__)

MESSAGE_IGNORED_EVENT = "heard_message_ignored"
"""Dispatched with (message_id, reason) for guild messages outside support spaces (tests wait on it)."""
MEMBER_MESSAGE_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})


class Listening(commands.Cog):
    """Turns Discord messages in support spaces into ``heard_message`` events (one engine call each)."""

    def __init__(self, bot: HeardBot) -> None:
        """Keep the bot and start with an empty conversation memory and thread-starter cache."""
        self.bot = bot
        self.memory = ConversationMemory()
        self.starters = StarterCache()

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Analyse a support message and dispatch ``heard_message``; ignore everything else."""
        if message.author.bot or message.webhook_id is not None or self.bot.is_shutting_down:
            return
        if message.type not in MEMBER_MESSAGE_TYPES or not message.content.strip():
            return
        if message.guild is None:
            if _is_direct_message(message.channel):
                self._dispatch_direct_message(message)
            return
        if not await self._is_support_space(message.guild.id, message.channel):
            self.bot.dispatch(MESSAGE_IGNORED_EVENT, message.id, "not_a_support_space")
            return
        post = await resolve_post(message, self.bot, starters=self.starters)
        is_reply_to_other = post is not None and post.author.id != message.author.id and not post.author.bot
        analysis = self._analyse(message, post if is_reply_to_other else None)
        if analysis is None:
            return
        conversation = self.memory.conversation_key(message, post)
        if post is not None and not self.memory.has_seen(post.id):
            self._remember_unseen_post(post, conversation)
        self.memory.remember(message.id, conversation)
        if analysis.crisis.level != "none":
            self.memory.mark_crisis(conversation)
        event = SupportMessage(
            message=message,
            guild_id=message.guild.id,
            post=post,
            is_reply_to_other=is_reply_to_other,
            analysis=analysis,
            crisis_context=self.memory.in_crisis(conversation),
        )
        log.debug(
            "message %s analysed: action=%s crisis=%s reply_to_other=%s",
            message.id,
            analysis.action,
            analysis.crisis.level,
            is_reply_to_other,
        )
        self.bot.dispatch(HEARD_MESSAGE_EVENT, event)

    async def _is_support_space(self, guild_id: int, channel: discord.abc.MessageableChannel) -> bool:
        """Return whether the channel is watched, or is a thread whose parent is watched."""
        channel_id = channel.parent_id if isinstance(channel, discord.Thread) else channel.id
        if channel_id is None:
            return False
        return await self.bot.guild_configs.is_watched(guild_id, channel_id)

    def _dispatch_direct_message(self, message: discord.Message) -> None:
        """Analyse a DM to Heard as a post on its own and dispatch it (crisis escalation reads these)."""
        analysis = self._analyse(message, None)
        if analysis is None:
            return
        self.bot.dispatch(
            HEARD_MESSAGE_EVENT,
            SupportMessage(
                message=message,
                guild_id=None,
                post=None,
                is_reply_to_other=False,
                analysis=analysis,
                crisis_context=analysis.crisis.level != "none",
            ),
        )

    def _analyse(self, message: discord.Message, post: discord.Message | None) -> Analysis | None:
        """Run the engine once: as a reply to ``post`` if given, else as a post on its own."""
        try:
            if post is not None:
                return analyze(message.content, post=post.content or None)
            return analyze_post(message.content)
        except Exception:  # the engine must never take the listener down; log ids only, never text
            log.exception("the listening engine failed on message %s", message.id)
            return None

    def _remember_unseen_post(self, post: discord.Message, conversation: int) -> None:
        """Read crisis signals of a post Heard did not see arrive (sent before start-up, or fetched)."""
        self.memory.remember(post.id, conversation)
        if not post.content.strip() or post.author.bot:
            return
        try:
            post_crisis = analyze_post(post.content).crisis.level
        except Exception:
            log.exception("the listening engine failed on post %s", post.id)
            return
        if post_crisis != "none":
            self.memory.mark_crisis(conversation)


def _is_direct_message(channel: discord.abc.MessageableChannel) -> bool:
    """Return whether a guild-less message came by DM (an uncached DM may arrive as a PartialMessageable).

    A message from a guild Heard has not cached also has no ``guild``; its channel still knows the guild id.
    """
    if isinstance(channel, discord.DMChannel):
        return True
    return isinstance(channel, discord.PartialMessageable) and channel.guild_id is None


async def setup(bot: HeardBot) -> None:
    """Load the listening pipeline."""
    await bot.add_cog(Listening(bot))

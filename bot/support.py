"""The shared support-message pipeline: what one analysed message looks like, and how its post is found.

``cogs/listening.py`` is the only ``on_message`` listener for support traffic. It analyses each message
once and dispatches ``heard_message`` with a :class:`SupportMessage`; the nudges and moderation cogs
listen with ``@commands.Cog.listener("on_heard_message")``. This module holds the event type, the post
resolver (also used by "Check my reply") and the bounded in-memory conversation memory that answers
"were there crisis signals in this thread or reply chain recently?".
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import discord

from bot.listening.types import Analysis

log = logging.getLogger(__name__)

HEARD_MESSAGE_EVENT: Final = "heard_message"
CRISIS_MEMORY_SECONDS: Final = 6 * 60 * 60
"""How long crisis signals keep a thread or reply chain in "crisis context" (style nudges pause)."""


@dataclass(frozen=True, slots=True)
class SupportMessage:
    """One support message, analysed once by the engine, as dispatched to the ``heard_message`` event."""

    message: discord.Message
    guild_id: int | None
    """None for DMs to the bot."""
    post: discord.Message | None
    """The support post this message answers (a Discord reply's target, or the thread's starter)."""
    is_reply_to_other: bool
    """Whether it answers someone else's post (a reply, or a message in someone else's thread)."""
    analysis: Analysis
    """The engine's result for ``message.content``."""
    crisis_context: bool
    """Crisis signals in this message, the post it answers, or this thread / reply chain recently."""


def is_thread_starter(message: discord.Message) -> bool:
    """Return whether ``message`` opens its thread (a forum post's first message has the thread's id)."""
    return isinstance(message.channel, discord.Thread) and message.id == message.channel.id


def thread_owner_id(message: discord.Message) -> int | None:
    """Return who started the thread ``message`` is in, or None outside threads."""
    channel = message.channel
    return channel.owner_id if isinstance(channel, discord.Thread) else None


class StarterCache:
    """A small bounded memory of the message that opened each thread (so busy threads fetch it once)."""

    def __init__(self, max_threads: int = 512) -> None:
        """Create an empty cache holding at most ``max_threads`` threads."""
        self._starters: OrderedDict[int, discord.Message | None] = OrderedDict()
        self._max_threads = max_threads

    async def get(self, thread: discord.Thread) -> discord.Message | None:
        """Return the thread's opening message, looking it up only the first time."""
        if thread.id in self._starters:
            self._starters.move_to_end(thread.id)
            return self._starters[thread.id]
        starter = await thread_starter(thread)
        self._starters[thread.id] = starter
        while len(self._starters) > self._max_threads:
            self._starters.popitem(last=False)
        return starter


async def resolve_post(
    message: discord.Message, client: discord.Client, *, starters: StarterCache | None = None
) -> discord.Message | None:
    """Return the post ``message`` answers: a Discord reply's target, else its thread's starter, else None.

    Uses discord.py's resolved reference or cache first (and ``starters`` for threads) and fetches only
    when needed; a deleted or unreachable post gives None (never an exception).
    """
    reference = message.reference
    if _is_reply(message) and reference is not None and reference.message_id:
        resolved = reference.resolved
        if isinstance(resolved, discord.Message):
            return resolved
        if isinstance(resolved, discord.DeletedReferencedMessage):
            return None
        if reference.cached_message is not None:
            return reference.cached_message
        channel = message.channel
        if reference.channel_id != channel.id:
            cached = client.get_channel(reference.channel_id)
            other: discord.abc.Messageable = (
                cached
                if isinstance(cached, discord.abc.Messageable)
                else client.get_partial_messageable(reference.channel_id, guild_id=reference.guild_id)
            )  # an uncached channel is fetched from through its id alone
            return await _fetch(other, reference.message_id)
        return await _fetch(channel, reference.message_id)
    channel = message.channel
    if isinstance(channel, discord.Thread) and message.id != channel.id:
        starter = await (starters.get(channel) if starters is not None else thread_starter(channel))
        return starter if starter is not None and starter.id != message.id else None
    return None


def _is_reply(message: discord.Message) -> bool:
    """Return whether ``message`` is a Discord reply (some servers send type 0 with a reply reference)."""
    if message.type is discord.MessageType.reply:
        return True
    reference = message.reference
    if message.type is not discord.MessageType.default or reference is None:
        return False
    same_guild = reference.guild_id is None or (
        message.guild is not None and reference.guild_id == message.guild.id
    )
    return reference.type is discord.MessageReferenceType.default and same_guild  # not a forward or crosspost


async def thread_starter(thread: discord.Thread) -> discord.Message | None:
    """Return the message that opened ``thread`` (a forum post, or the channel message it grew from)."""
    if thread.starter_message is not None:
        return thread.starter_message
    if isinstance(thread.parent, discord.ForumChannel):
        return await _fetch(thread, thread.id)
    if isinstance(thread.parent, discord.TextChannel):
        # A thread grown from a channel message shares its id; otherwise its first message opens it.
        return await _fetch(thread.parent, thread.id) or await _first_message(thread)
    # The parent is not cached (or of another kind): a forum post's starter has the thread's id,
    # otherwise the thread's oldest message is the best answer.
    return await _fetch(thread, thread.id) or await _first_message(thread)


async def guild_member(guild: discord.Guild, user: discord.abc.Snowflake) -> discord.Member | None:
    """Return ``user`` as a member of ``guild``: from the payload, the cache, or one fetch.

    Heard runs without the members intent, so a message's author may arrive as a plain ``User``;
    None means they are not in the server (any more) or Discord would not say.
    """
    if isinstance(user, discord.Member) and user.guild.id == guild.id:
        return user
    member = guild.get_member(user.id)
    if member is not None:
        return member
    try:
        return await guild.fetch_member(user.id)
    except discord.NotFound:
        return None
    except discord.HTTPException as error:
        log.warning("could not look up member %s of guild %s (status %s)", user.id, guild.id, error.status)
        return None


async def _first_message(thread: discord.Thread) -> discord.Message | None:
    """Return the oldest message in ``thread``, or None if there is none or it can't be read."""
    try:
        async for message in thread.history(limit=1, oldest_first=True):
            return message
    except discord.HTTPException as error:
        log.warning("could not read the start of thread %s (status %s)", thread.id, error.status)
    return None


async def _fetch(channel: discord.abc.Messageable, message_id: int) -> discord.Message | None:
    """Fetch one message, returning None if it is gone or Heard cannot read it."""
    try:
        return await channel.fetch_message(message_id)
    except discord.NotFound:
        return None
    except discord.HTTPException as error:
        log.warning("could not fetch message %s (status %s, code %s)", message_id, error.status, error.code)
        return None


class ConversationMemory:
    """A bounded, in-memory map of messages to their conversation, and conversations with crisis signals.

    A conversation is a thread, or a reply chain (keyed by the message at its root). Marks older than
    ``window_seconds`` no longer count; both maps drop their oldest entries beyond their size limits.
    """

    def __init__(
        self,
        *,
        max_messages: int = 20_000,
        max_conversations: int = 5_000,
        window_seconds: float = CRISIS_MEMORY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create an empty memory with the given bounds and crisis window."""
        self._conversation_of: OrderedDict[int, int] = OrderedDict()
        self._crisis_at: OrderedDict[int, float] = OrderedDict()
        self._max_messages = max_messages
        self._max_conversations = max_conversations
        self._window = window_seconds
        self._clock = clock

    def has_seen(self, message_id: int) -> bool:
        """Return whether a message was remembered (so its crisis signals are already accounted for)."""
        return message_id in self._conversation_of

    def conversation_key(self, message: discord.Message, post: discord.Message | None) -> int:
        """Return the conversation ``message`` belongs to: its thread, its reply chain's root, or itself."""
        if isinstance(message.channel, discord.Thread):
            return message.channel.id
        if post is None:
            return message.id
        if post.id in self._conversation_of:
            return self._conversation_of[post.id]
        # The post was not remembered (yet): if it is itself a reply, join the chain it answers.
        parent_id = post.reference.message_id if post.reference is not None else None
        if _is_reply(post) and parent_id is not None:
            return self._conversation_of.get(parent_id, parent_id)
        return post.id

    def remember(self, message_id: int, conversation: int) -> None:
        """Remember which conversation a message belongs to."""
        self._conversation_of[message_id] = conversation
        self._conversation_of.move_to_end(message_id)
        while len(self._conversation_of) > self._max_messages:
            self._conversation_of.popitem(last=False)

    def mark_crisis(self, conversation: int) -> None:
        """Record crisis signals in a conversation now."""
        self._crisis_at[conversation] = self._clock()
        self._crisis_at.move_to_end(conversation)
        while len(self._crisis_at) > self._max_conversations:
            self._crisis_at.popitem(last=False)

    def in_crisis(self, conversation: int) -> bool:
        """Return whether the conversation had crisis signals within the window."""
        marked = self._crisis_at.get(conversation)
        return marked is not None and self._clock() - marked <= self._window

"""The shared support-message pipeline: one engine call per message, dispatched as ``heard_message``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.bot import HeardBot
from bot.support import SupportMessage
from tests.cogs.member_helpers import ADVICE, POST, TIMEOUT, Decisions
from tests.conftest import configure_guild

StartHeard = Callable[..., Awaitable[HeardBot]]
CRISIS_POST = "i don't want to be here anymore. everyone would be better off without me"


class Events:
    """Records every ``heard_message`` event by message id."""

    def __init__(self) -> None:
        """Start empty."""
        self.by_id: dict[int, SupportMessage] = {}
        self._changed = asyncio.Event()

    def attach(self, bot: HeardBot) -> Events:
        """Listen on ``bot`` and return self."""
        bot.add_listener(self._on_heard_message, "on_heard_message")
        return self

    async def _on_heard_message(self, event: SupportMessage) -> None:
        self.by_id[event.message.id] = event
        self._changed.set()

    async def wait(self, message_id: int) -> SupportMessage:
        """Return the event for ``message_id``, waiting for it if needed."""
        async with asyncio.timeout(TIMEOUT):
            while message_id not in self.by_id:
                self._changed.clear()
                if message_id in self.by_id:
                    break
                await self._changed.wait()
        return self.by_id[message_id]


@pytest.fixture
async def events(sandbox: Any, heard: HeardBot) -> Events:
    """Heard configured with #support and the vent forum watched, its events recorded."""
    recorder = Events().attach(heard)
    await configure_guild(sandbox)
    return recorder


async def test_a_reply_to_someone_elses_post_is_analysed_with_its_post(sandbox: Any, events: Events) -> None:
    scene = sandbox.scene
    post = await sandbox.member_says(scene.alex, scene.support, POST)
    reply = await sandbox.member_says(scene.sam, scene.support, ADVICE, reply_to=post.id)
    post_event = await events.wait(post.id)
    assert post_event.post is None and not post_event.is_reply_to_other
    assert post_event.analysis.roadblocks == ()  # a post on its own has no roadblocks
    event = await events.wait(reply.id)
    assert event.guild_id == scene.guild.id
    assert event.post is not None and event.post.id == post.id
    assert event.is_reply_to_other
    assert event.analysis.text == ADVICE
    assert not event.crisis_context


async def test_replying_to_your_own_post_is_not_a_reply_to_someone_else(sandbox: Any, events: Events) -> None:
    scene = sandbox.scene
    post = await sandbox.member_says(scene.alex, scene.support, POST)
    again = await sandbox.member_says(scene.alex, scene.support, "also my cat is sick", reply_to=post.id)
    event = await events.wait(again.id)
    assert event.post is not None and not event.is_reply_to_other


async def test_forum_thread_messages_answer_the_threads_first_post(sandbox: Any, events: Events) -> None:
    scene = sandbox.scene
    thread = await sandbox.start_thread(scene.alex, scene.vent, "so tired", POST)
    reply = await sandbox.member_says(scene.sam, thread, ADVICE)
    starter = await events.wait(thread.id)
    assert starter.post is None
    event = await events.wait(reply.id)
    assert event.post is not None and event.post.id == thread.id and event.is_reply_to_other


async def test_crisis_signals_mark_the_reply_chain_and_the_thread(sandbox: Any, events: Events) -> None:
    scene = sandbox.scene
    post = await sandbox.member_says(scene.alex, scene.support, CRISIS_POST)
    reply = await sandbox.member_says(scene.sam, scene.support, ADVICE, reply_to=post.id)
    reply_to_reply = await sandbox.member_says(scene.jo, scene.support, "same honestly", reply_to=reply.id)
    assert (await events.wait(post.id)).crisis_context
    assert (await events.wait(reply.id)).crisis_context
    assert (await events.wait(reply_to_reply.id)).crisis_context
    thread = await sandbox.start_thread(scene.alex, scene.vent, "tonight", CRISIS_POST)
    in_thread = await sandbox.member_says(scene.sam, thread, ADVICE)
    assert (await events.wait(in_thread.id)).crisis_context
    calm = await sandbox.member_says(scene.riley, scene.support, POST)
    assert not (await events.wait(calm.id)).crisis_context


async def test_dms_to_heard_are_dispatched_without_a_guild(sandbox: Any, events: Events) -> None:
    message = await sandbox.dm_bot(sandbox.scene.alex, CRISIS_POST)
    event = await events.wait(message.id)
    assert event.guild_id is None and event.post is None and not event.is_reply_to_other
    assert event.analysis.crisis.level != "none" and event.crisis_context


async def test_unwatched_channels_and_bots_are_not_dispatched(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    recorder = Events().attach(heard)
    decisions = Decisions().attach(heard)
    await configure_guild(sandbox)
    elsewhere = await sandbox.member_says(scene.alex, scene.general, POST)
    assert await decisions.wait(elsewhere.id) == "ignored:not_a_support_space"
    assert elsewhere.id not in recorder.by_id
    bot_messages = [m for m in sandbox.messages_in(scene.support.id) if m.author_id == sandbox.bot_user.id]
    assert all(m.id not in recorder.by_id for m in bot_messages)


async def test_a_reply_to_a_post_from_before_a_restart_fetches_the_post(
    sandbox: Any, start_heard: StartHeard, db_path: Path
) -> None:
    scene = sandbox.scene
    first = await start_heard(db_path=db_path)
    await configure_guild(sandbox)
    post = await sandbox.member_says(scene.alex, scene.support, CRISIS_POST)
    await first.close()
    restarted = await start_heard(db_path=db_path)
    recorder = Events().attach(restarted)
    reply = await sandbox.member_says(scene.sam, scene.support, ADVICE, reply_to=post.id)
    event = await recorder.wait(reply.id)
    assert event.post is not None and event.post.content == CRISIS_POST
    assert event.crisis_context  # the fetched post's crisis signals still pause nudges


async def test_a_thread_in_a_watched_text_channel_answers_its_first_message(
    sandbox: Any, events: Events
) -> None:
    scene = sandbox.scene
    thread = await sandbox.start_thread(scene.alex, scene.support, "rough week", POST)
    (first,) = sandbox.messages_in(thread.id)
    assert (await events.wait(first.id)).post is None  # the message that opens a thread answers nothing
    reply = await sandbox.member_says(scene.sam, thread, ADVICE)
    event = await events.wait(reply.id)
    assert event.post is not None and event.post.author.id == scene.alex.id
    assert event.post.content == POST and event.is_reply_to_other
    again = await sandbox.member_says(scene.jo, thread, ADVICE)
    assert (await events.wait(again.id)).post == event.post
    lookups = [
        call for call in sandbox.calls if call.method == "GET" and f"/channels/{thread.id}/" in call.path
    ]
    assert len(lookups) == 1  # the thread's opening message is looked up once, then remembered

"""Shared helpers for the moderator-tooling tests (flag alerts and crisis escalation) over the sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from bot.bot import HeardBot

TIMEOUT = 30.0
POST = "My exam went badly and I am dreading telling my parents."
FLAG_REPLY = "Honestly that's your own fault, you're so lazy and pathetic."
KIND_REPLY = "That sounds really heavy. It makes sense you're dreading telling them."
CRISIS_URGENT = "I can't do this anymore. I'm going to kill myself tonight."
CRISIS_CONCERN = "Honestly everyone would be better off without me. I'm just a burden to all of them."


def require_engine_reads(
    text: str, *, post: str | None = None, action: str | None = None, crisis: str | None = None
) -> None:
    """Fail with a clear message if the engine no longer reads a test text the way the test needs."""
    from bot.listening import analyze, analyze_post

    analysis = analyze(text, post=post) if post is not None else analyze_post(text)
    if action is not None:
        assert analysis.action == action, (
            f"engine precondition: expected action {action}, got {analysis.action}"
        )
    if crisis is not None:
        assert analysis.crisis.level == crisis, (
            f"engine precondition: expected crisis {crisis}, got {analysis.crisis.level}"
        )


async def wait_until(condition: Callable[[], Awaitable[bool]], *, within: float = TIMEOUT, what: str) -> None:
    """Poll an async condition (database state) until it holds; fail after ``within`` seconds."""
    try:
        async with asyncio.timeout(within):
            while not await condition():  # noqa: ASYNC110 - database state has no event to wait on
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def moderation_cog(bot: HeardBot) -> Any:
    """Return the loaded moderation cog."""
    cog = bot.get_cog("Moderation")
    assert cog is not None, "the moderation cog is not loaded"
    return cog


async def outbox_drained(bot: HeardBot) -> bool:
    """Return whether no alert delivery is waiting."""
    return bool(await moderation_cog(bot).outbox.pending_count() == 0)


def flag_alerts(sandbox: Any) -> list[Any]:
    """Return the flag alert messages currently in the moderator channel."""
    channel = sandbox.scene.mod_alerts
    return [m for m in sandbox.messages_in(channel) if "Heard flag #" in m.text()]


def crisis_alerts(sandbox: Any) -> list[Any]:
    """Return the crisis alert messages currently in the moderator channel."""
    channel = sandbox.scene.mod_alerts
    return [m for m in sandbox.messages_in(channel) if "Heard crisis alert #" in m.text()]


async def wait_for_flag_alert(sandbox: Any, *, since: Any = None, flag_id: int | None = None) -> Any:
    """Wait for a flag alert in the moderator channel (optionally for one flag id)."""
    marker = f"Heard flag #{flag_id}" if flag_id is not None else "Heard flag #"
    channel_id = sandbox.scene.mod_alerts.id
    return await sandbox.wait_for_message(
        lambda m: m.channel_id == channel_id and marker in m.text(), timeout=TIMEOUT, since=since
    )


async def post_and_flagged_reply(
    sandbox: Any, *, replier: Any = None, reply: str = FLAG_REPLY
) -> tuple[Any, Any]:
    """alex posts in #support; ``replier`` (sam) answers with a judgmental reply. Returns (post, reply)."""
    scene = sandbox.scene
    require_engine_reads(POST, crisis="none")  # the post itself must not be an escalation
    post = await sandbox.member_says(scene.alex, scene.support, POST)
    answer = await sandbox.member_says(replier or scene.sam, scene.support, reply, reply_to=post)
    return post, answer


def button_id(message: Any, action: str) -> str:
    """Return the custom_id of the review button ``action`` on an alert message."""
    for custom_id in message.custom_ids():
        if custom_id.startswith(f"heard:flag:{action}:"):
            return str(custom_id)
    raise AssertionError(f"no {action} button on the alert: {message.custom_ids()}")

"""Delivers stored moderator alerts exactly once: claim, send, confirm; retry with backoff on failure.

The outbox rows are written by the moderation and crisis repositories together with the flag or crisis
row. :class:`AlertDispatcher` runs as one background task per bot process:

* it claims a due row with a lease (two workers never hold the same row), renders the alert from the
  database *at send time* (so a merged repeat shows the latest count), and posts it;
* a row whose earlier attempt may have reached Discord (``in_flight``) is first *reconciled*: the
  moderator channel's recent messages are searched for the alert's marker, so a crash between Discord's
  answer and our commit never produces a second copy (the send also carries an enforced nonce);
* a failure (5xx, 429 beyond discord.py's own retries, missing permissions, a deleted channel) leaves the
  row waiting with exponential backoff, also across restarts; permission problems are reported through
  a callback (the moderation cog tells the admin who ran setup, once).

The dispatcher knows nothing about what a flag or a crisis alert looks like: the cog named in
:data:`RENDERER_COGS` for the row's kind renders it through ``render_alert(item)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import random
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
import discord

from bot.storage.alert_outbox import AlertOutboxRepository, OutboxItem, utc_now

if TYPE_CHECKING:
    from bot.bot import HeardBot

log = logging.getLogger(__name__)

RENDERER_COGS: dict[str, str] = {"flag": "Moderation", "crisis": "Crisis"}
"""Which cog renders each kind of alert (it must define ``async def render_alert(item)``)."""
RECONCILE_HISTORY_LIMIT = 50
IDLE_POLL_SECONDS = 30.0
MAX_PARALLEL_DELIVERIES = 4
ATTEMPT_SHARE_OF_LEASE = 0.8
"""An attempt is abandoned well before its lease ends, so no other worker can take a live row."""
DISCORD_UNKNOWN_CHANNEL = 10003
DISCORD_UNKNOWN_MESSAGE = 10008


@dataclass(frozen=True, slots=True)
class RenderedAlert:
    """What to post (or edit) for one outbox row."""

    channel_id: int | None  # the guild's moderator channel now; None when it has none
    marker: str  # text in the embed footer that identifies this alert (for reconciliation)
    embed: discord.Embed
    content: str | None = None
    view: discord.ui.View | None = None
    allowed_mentions: discord.AllowedMentions = field(default_factory=discord.AllowedMentions.none)


class AlertRenderer(Protocol):
    """A cog that can render its kind of alert."""

    async def render_alert(self, item: OutboxItem) -> RenderedAlert | None:
        """Return the alert for ``item``, or None if its subject no longer exists (the row is dropped)."""
        ...


BlockedReporter = Callable[[int, int | None, str], Awaitable[None]]
"""``await report(guild_id, channel_id, problem)`` — called when an alert can't be posted for a reason a
server admin must fix (``missing_permissions``, ``channel_deleted``, ``no_channel``)."""


class PostNotConfirmedYet(Exception):
    """An edit ran before the alert's post was confirmed; it waits and runs after it."""


class DeliveryBlocked(Exception):
    """An alert could not be delivered for a reason an admin must fix."""

    def __init__(self, problem: str, channel_id: int | None) -> None:
        """Name the problem (``missing_permissions``, ``channel_deleted``, ``no_channel``)."""
        super().__init__(problem)
        self.problem = problem
        self.channel_id = channel_id


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter for undelivered alerts."""

    base_seconds: float = 2.0
    max_seconds: float = 300.0
    jitter: float = 0.2

    def delay(self, attempts: int) -> float:
        """Return the wait before the next attempt after ``attempts`` failed ones."""
        raw = min(self.max_seconds, self.base_seconds * (2 ** max(attempts - 1, 0)))
        return raw * (1 + random.uniform(-self.jitter, self.jitter))


def worker_name() -> str:
    """Return a name unique to this process and start (used as the lease owner)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class AlertDispatcher:
    """The background worker that drains the alert outbox."""

    def __init__(
        self,
        bot: HeardBot,
        outbox: AlertOutboxRepository,
        *,
        retry: RetryPolicy,
        lease_seconds: float,
        report_blocked: BlockedReporter,
    ) -> None:
        """Prepare a dispatcher for ``bot`` (call :meth:`run` as a background task)."""
        self._bot = bot
        self._outbox = outbox
        self._retry = retry
        self._lease_seconds = lease_seconds
        self._report_blocked = report_blocked
        self._worker = worker_name()
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(MAX_PARALLEL_DELIVERIES)
        self._active: dict[int, asyncio.Task[None]] = {}
        self.delivered_count = 0

    @property
    def worker(self) -> str:
        """This dispatcher's lease-owner name."""
        return self._worker

    def wake(self) -> None:
        """Look at the outbox now (a new row was committed)."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver due rows until cancelled; on the way out, give back the leases still held."""
        failures = 0
        try:  # REST needs no gateway: stored alerts go out while Heard is still connecting
            while True:
                self._wake.clear()
                try:
                    await self._start_due_deliveries()
                    await self._sleep_until_due()
                    failures = 0
                except Exception:  # the database is busy or briefly unavailable: keep the worker alive
                    failures += 1
                    log.exception("alert outbox pass failed (%d in a row); trying again", failures)
                    await asyncio.sleep(self._retry.delay(failures))
        finally:
            await self._shutdown()

    async def _start_due_deliveries(self) -> None:
        """Start a delivery task for each due row not already being delivered (at most a few at once)."""
        for outbox_id in await self._outbox.due_ids(limit=50):
            if outbox_id in self._active:
                continue
            await self._slots.acquire()
            task = asyncio.create_task(self._deliver_one(outbox_id), name=f"alert-{outbox_id}")
            self._active[outbox_id] = task
            task.add_done_callback(functools.partial(self._finished, outbox_id))

    def _finished(self, outbox_id: int, _task: asyncio.Task[None]) -> None:
        """Free the slot of a finished delivery and look again (its retry time may now be set)."""
        self._active.pop(outbox_id, None)
        self._slots.release()
        self._wake.set()

    async def _sleep_until_due(self) -> None:
        """Wait until woken or until the earliest waiting row is due."""
        due = await self._outbox.next_due_at()
        timeout = IDLE_POLL_SECONDS
        if due is not None:
            timeout = min(IDLE_POLL_SECONDS, max(0.01, (due - utc_now()).total_seconds() + 0.005))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._wake.wait()

    async def _shutdown(self) -> None:
        """Cancel running deliveries and release this worker's leases so a restart resumes at once."""
        tasks = list(self._active.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._outbox.release_all(worker=self._worker)

    async def _deliver_one(self, outbox_id: int) -> None:
        """Claim one row and deliver it; any failure leaves it waiting with a retry time."""
        try:
            item = await self._outbox.claim(outbox_id, worker=self._worker, lease_seconds=self._lease_seconds)
        except Exception:
            log.exception("could not claim alert %s; it stays waiting", outbox_id)
            return
        if item is None:
            return
        try:
            async with asyncio.timeout(self._lease_seconds * ATTEMPT_SHARE_OF_LEASE):
                await self._attempt(item)
        except asyncio.CancelledError:
            raise
        except PostNotConfirmedYet:
            await self._reschedule(item, "waiting for the post", unknown=False)
        except DeliveryBlocked as blocked:
            log.warning(
                "alert %s (%s %s) blocked in guild %s: %s",
                item.id,
                item.kind,
                item.ref_id,
                item.guild_id,
                blocked.problem,
            )
            await self._reschedule(item, blocked.problem, unknown=False)
            try:
                await self._report_blocked(item.guild_id, blocked.channel_id, blocked.problem)
            except Exception:
                log.exception("could not report a blocked alert in guild %s", item.guild_id)
        except discord.HTTPException as error:
            log.warning(
                "alert %s (%s %s) failed with status %s code %s; will retry",
                item.id,
                item.kind,
                item.ref_id,
                error.status,
                error.code,
            )
            await self._reschedule(item, f"http {error.status}/{error.code}", unknown=error.status >= 500)
        except (TimeoutError, aiohttp.ClientError, OSError, discord.GatewayNotFound) as error:
            log.warning(
                "alert %s (%s %s) failed (%s); will retry",
                item.id,
                item.kind,
                item.ref_id,
                type(error).__name__,
            )
            await self._reschedule(item, type(error).__name__, unknown=True)
        except Exception:
            log.exception("alert %s (%s %s) failed unexpectedly; will retry", item.id, item.kind, item.ref_id)
            with contextlib.suppress(Exception):  # if even this fails, the lease expires and it is retried
                await self._reschedule(item, "unexpected error", unknown=True)

    async def _reschedule(self, item: OutboxItem, error: str, *, unknown: bool) -> None:
        """Release the row with the next retry time (keeping ``in_flight`` if the send may have landed)."""
        await self._outbox.reschedule(
            item.id,
            worker=self._worker,
            retry_in_seconds=self._retry.delay(item.attempts),
            error=error,
            delivered_unknown=unknown or item.in_flight,
        )

    async def _attempt(self, item: OutboxItem) -> None:
        """Render and deliver one claimed row (raises on failure)."""
        renderer = self._bot.get_cog(RENDERER_COGS.get(item.kind, ""))
        if renderer is None or not hasattr(renderer, "render_alert"):
            raise RuntimeError(f"no renderer loaded for {item.kind} alerts")
        rendered: RenderedAlert | None = await renderer.render_alert(item)
        if rendered is None:
            await self._outbox.drop(item.id, worker=self._worker, reason="subject no longer exists")
            return
        if item.operation == "edit":
            await self._edit(item, rendered)
        else:
            await self._send(item, rendered)

    async def _send(self, item: OutboxItem, rendered: RenderedAlert) -> None:
        """Post a new alert once: reconcile an uncertain earlier attempt, then send and confirm."""
        if rendered.channel_id is None:
            raise DeliveryBlocked("no_channel", None)
        channel = self._bot.get_partial_messageable(rendered.channel_id, guild_id=item.guild_id)
        if item.in_flight:
            found = await self._find_posted(channel, rendered.marker, item)
            if found is not None:
                log.info("alert %s was already posted as message %s; recorded it", item.id, found)
                await self._complete(item, rendered.channel_id, found)
                return
        if not await self._outbox.mark_in_flight(item.id, worker=self._worker):
            return  # the lease was lost; whoever holds it now will finish
        try:
            kwargs: dict[str, Any] = {
                "embed": rendered.embed,
                "allowed_mentions": rendered.allowed_mentions,
                "nonce": f"heard-alert-{item.id}",
            }
            if rendered.content is not None:
                kwargs["content"] = rendered.content
            if rendered.view is not None:
                kwargs["view"] = rendered.view
            message = await channel.send(**kwargs)
        except discord.Forbidden as error:
            raise DeliveryBlocked("missing_permissions", rendered.channel_id) from error
        except discord.NotFound as error:
            if _is_unknown_channel(error):
                raise DeliveryBlocked("channel_deleted", rendered.channel_id) from error
            raise
        await self._complete(item, rendered.channel_id, message.id)

    async def _complete(self, item: OutboxItem, channel_id: int, message_id: int) -> None:
        """Record the delivery and let the renderer's cog know (e.g. to store the alert's message id)."""
        if await self._outbox.complete(
            item.id, worker=self._worker, channel_id=channel_id, message_id=message_id
        ):
            self.delivered_count += 1
            log.info("alert %s (%s %s) delivered as message %s", item.id, item.kind, item.ref_id, message_id)
            if item.operation == "send":
                await self._outbox.edits_due_now(item.kind, item.ref_id)
            cog = self._bot.get_cog("Moderation")
            on_delivered = getattr(cog, "alert_delivered", None)
            if on_delivered is not None:
                await on_delivered(item.guild_id)

    async def _find_posted(
        self, channel: discord.PartialMessageable, marker: str, item: OutboxItem
    ) -> int | None:
        """Return the id of an alert with ``marker`` the bot already posted in ``channel``, if any."""
        me = self._bot.user
        created = datetime.fromisoformat(item.created_at) - timedelta(minutes=1)
        try:
            async for message in channel.history(
                limit=RECONCILE_HISTORY_LIMIT, after=discord.Object(id=discord.utils.time_snowflake(created))
            ):
                if me is not None and message.author.id != me.id:
                    continue
                if any(embed.footer.text == marker for embed in message.embeds):
                    return message.id
        except discord.Forbidden as error:
            raise DeliveryBlocked("missing_permissions", channel.id) from error
        except discord.NotFound as error:
            if _is_unknown_channel(error):
                raise DeliveryBlocked("channel_deleted", channel.id) from error
            raise
        return None

    async def _edit(self, item: OutboxItem, rendered: RenderedAlert) -> None:
        """Refresh a posted alert in place; a deleted alert message makes the edit moot."""
        posted = await self._outbox.delivered(item.kind, item.ref_id)
        if posted is None or posted.channel_id is None or posted.message_id is None:
            if await self._outbox.send_state(item.kind, item.ref_id) == "pending":
                raise PostNotConfirmedYet()
            await self._outbox.drop(item.id, worker=self._worker, reason="alert was never posted")
            return
        channel = self._bot.get_partial_messageable(posted.channel_id, guild_id=item.guild_id)
        try:
            await channel.get_partial_message(posted.message_id).edit(
                content=rendered.content, embed=rendered.embed, view=rendered.view
            )
        except discord.Forbidden as error:
            raise DeliveryBlocked("missing_permissions", posted.channel_id) from error
        except discord.NotFound:
            await self._outbox.drop(item.id, worker=self._worker, reason="alert message was deleted")
            return
        await self._complete(item, posted.channel_id, posted.message_id)


def _is_unknown_channel(error: discord.NotFound) -> bool:
    """Return whether a 404 means the channel is gone (Discord's code 10003, or a 404 with no code at all)."""
    return error.code in (DISCORD_UNKNOWN_CHANNEL, 0)

"""Private listening nudges: a kind, private tip when a reply skips listening (advice-first, minimising...).

Reads ``heard_message`` events from the listening pipeline. A member who answers someone else's post in a
support space with a reply the engine marks ``nudge`` (or ``flag``) gets a DM: one warm sentence naming
what happened, a try-instead, and a reflection suggestion for the post. If their DMs are closed, the guild
chose (``/heard nudges``) between nothing and a short in-channel message that pings nobody, with a
"Show tip" button only they can open. Never the post's author, never in unwatched channels, never members
with the exempt role or who said ``/nudges off``; per-member cooldown and daily cap; paused in
conversations with crisis signals. Each nudge is stored (ids, codes, result, time; never text) as
``pending`` before anything is sent, then updated with the result.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import admin_only, has_role
from bot.listening import analyze, reflect
from bot.listening.types import Analysis
from bot.replies import answer_failures, send_private
from bot.storage.database import DatabaseClosedError
from bot.storage.nudges import (
    MAX_COOLDOWN_MINUTES,
    MAX_DAILY_CAP,
    RESULT_DM,
    RESULT_DMS_CLOSED,
    RESULT_FAILED,
    RESULT_IN_CHANNEL,
    DmFallback,
    NudgeRecord,
    NudgeRepository,
    NudgeSettings,
    NudgeSource,
    utc_now,
)
from bot.support import SupportMessage, guild_member, resolve_post, thread_owner_id
from cogs._member_common import (
    NO_MENTIONS,
    NudgeContent,
    format_nudge,
    member_texts,
    nudge_content,
    text_problem,
)

if TYPE_CHECKING:
    from bot.bot import HeardBot

log = logging.getLogger(__name__)

DMS_CLOSED_CODE = 50007
INTERRUPTED_AFTER = timedelta(minutes=1)
"""A nudge still pending this long before start-up was interrupted by a stop or crash."""
DM_RETRY_PAUSES = (1.0, 3.0)
"""Pauses before trying a DM again after a Discord server error (then the nudge is recorded as failed)."""
NUDGE_ACTIONS = frozenset({"nudge", "flag"})
SKIPPED_OPTED_OUT = "skipped_opted_out"
NUDGE_DECIDED_EVENT = "nudge_decided"
DELIVERY_RESULTS = frozenset({RESULT_DM, RESULT_IN_CHANNEL, RESULT_DMS_CLOSED, RESULT_FAILED})


@dataclass(frozen=True, slots=True)
class NudgeDecision:
    """What the nudges cog decided for one support message (dispatched as ``nudge_decided``)."""

    message_id: int
    member_id: int
    result: str


class ShowTipButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"heard:tip:(?P<member_id>[0-9]{1,20}):(?P<nudge_id>[0-9]{1,20})",
):
    """The in-channel "Show tip" button: persistent (works after restarts), opens only for its member."""

    def __init__(self, member_id: int, nudge_id: int) -> None:
        """Build the button for one stored nudge of one member."""
        super().__init__(
            discord.ui.Button(
                label=member_texts().get("nudge.show_tip"),
                style=discord.ButtonStyle.primary,
                custom_id=f"heard:tip:{member_id}:{nudge_id}",
            )
        )
        self.member_id = member_id
        self.nudge_id = nudge_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ShowTipButton:
        """Rebuild the button from its custom_id when someone clicks it."""
        return cls(int(match["member_id"]), int(match["nudge_id"]))

    @answer_failures
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Show the tip privately to its member; anyone else gets a kind ephemeral explanation."""
        cog = interaction.client.get_cog(Nudges.__cog_name__)
        if not isinstance(cog, Nudges):
            await send_private(interaction, member_texts().get("nudge.tip_not_yours"))
            return
        await cog.open_tip(interaction, self.member_id, self.nudge_id)


def tip_view(member_id: int, nudge_id: int) -> discord.ui.View:
    """Return a view holding the persistent "Show tip" button."""
    view = discord.ui.View(timeout=None)
    view.add_item(ShowTipButton(member_id, nudge_id))
    return view


class Nudges(commands.Cog):
    """Sends private listening nudges and lets members and admins control them."""

    heard = app_commands.Group(
        name="heard",
        description="Heard setup and moderation",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )
    nudges = app_commands.Group(name="nudges", description="Turn Heard's private listening tips on or off")

    def __init__(self, bot: HeardBot, *, clock: Callable[[], datetime] = utc_now) -> None:
        """Keep the bot, the nudge repository, and the clock used for cooldowns (replaceable in tests)."""
        self.bot = bot
        self.repository = NudgeRepository(bot.db)
        self.clock = clock

    async def cog_load(self) -> None:
        """Make "Show tip" buttons of earlier runs work again; settle nudges a crash left pending."""
        self.bot.add_dynamic_items(ShowTipButton)
        settled = await self.repository.settle_interrupted(started_before=self.clock() - INTERRUPTED_AFTER)
        if settled:
            log.warning("%d nudges were left pending by an earlier run; recorded as interrupted", settled)

    async def cog_unload(self) -> None:
        """Stop handling "Show tip" buttons."""
        self.bot.remove_dynamic_items(ShowTipButton)

    # ----- the listener -------------------------------------------------------------------------

    @commands.Cog.listener("on_heard_message")
    async def nudge_if_needed(self, event: SupportMessage) -> None:
        """Nudge the replier privately when their reply to someone else's post skips listening.

        Whatever it decides, it dispatches ``nudge_decided`` with a :class:`NudgeDecision` (ids and the
        result only), so tests, the demo and the benchmark can wait on it instead of sleeping.
        """
        result = "error"
        try:
            result = await self._decide(event)
        except Exception:
            if not self.bot.is_shutting_down:
                raise
            log.info("nudge decision for message %s interrupted by shutdown", event.message.id)
        finally:
            decision = NudgeDecision(event.message.id, event.message.author.id, result)
            self.bot.dispatch(NUDGE_DECIDED_EVENT, decision)
        if result in DELIVERY_RESULTS:
            log.info("nudge for message %s in guild %s: %s", event.message.id, event.guild_id, result)

    async def _decide(self, event: SupportMessage) -> str:
        """Return why no nudge is due, or deliver one and return the delivery result."""
        message = event.message
        if event.guild_id is None or message.guild is None:
            return "not_in_guild"
        if not event.is_reply_to_other:
            return "not_a_reply_to_someone_else"
        if event.analysis.action not in NUDGE_ACTIONS or not event.analysis.roadblocks:
            return "nothing_to_nudge"
        member = await guild_member(message.guild, message.author)  # may arrive as a plain User
        if member is None:
            return "not_in_guild"
        if event.crisis_context:
            return "paused_for_crisis"  # the moderators' crisis path takes over; style nudges pause
        if thread_owner_id(message) == member.id or (event.post and event.post.author.id == member.id):
            return "own_post"  # never nudge the author of the support post about their own messages
        settings = await self.repository.settings(event.guild_id)
        if settings.exempt_role_id is not None and has_role(member, settings.exempt_role_id):
            return "skipped_exempt"
        if await self.repository.is_opted_out(member.id):
            return SKIPPED_OPTED_OUT
        return await self._deliver(
            member,
            message.guild,
            channel_id=message.channel.id,
            message_id=message.id,
            analysis=event.analysis,
            post_text=event.post.content if event.post else None,
            settings=settings,
            source="auto",
        )

    # ----- delivery (also used by the moderation cog's "Nudge author" button) -------------------

    async def deliver_nudge(
        self,
        member: discord.Member | discord.User,
        guild: discord.Guild,
        channel_id: int,
        message_id: int,
        analysis: Analysis,
        post_text: str | None,
        source: NudgeSource = "moderator",
    ) -> str:
        """Send one private nudge now (skipping cooldown and cap for moderators) and return the result.

        Results: "dm", "in_channel", "dms_closed", "failed", "skipped_opted_out", "skipped_already_nudged"
        (automatic nudges may also give "skipped_cooldown" or "skipped_daily_cap").
        """
        if await self.repository.is_opted_out(member.id):
            return SKIPPED_OPTED_OUT
        settings = await self.repository.settings(guild.id)
        return await self._deliver(
            member,
            guild,
            channel_id=channel_id,
            message_id=message_id,
            analysis=analysis,
            post_text=post_text,
            settings=settings,
            source=source,
        )

    async def _deliver(
        self,
        member: discord.Member | discord.User,
        guild: discord.Guild,
        *,
        channel_id: int,
        message_id: int,
        analysis: Analysis,
        post_text: str | None,
        settings: NudgeSettings,
        source: NudgeSource,
    ) -> str:
        """Write the pending record, send the nudge, and record the result, whatever Discord answers."""
        claim = await self.repository.claim(
            guild_id=guild.id,
            member_id=member.id,
            channel_id=channel_id,
            message_id=message_id,
            codes=analysis.codes,
            settings=settings,
            source=source,
            now=self.clock(),
        )
        if not claim.granted or claim.nudge_id is None:
            return f"skipped_{claim.status}"
        result = RESULT_FAILED
        try:
            content = self._content(analysis, post_text, (guild.id, channel_id, message_id), source)
            result = await self._send(
                member, guild, claim.nudge_id, channel_id, content, settings.dm_fallback
            )
        except Exception:
            log.exception("nudge %s could not be delivered", claim.nudge_id)
        finally:
            try:
                await self.repository.set_result(claim.nudge_id, result, now=self.clock())
            except DatabaseClosedError:
                log.warning(
                    "nudge %s: shutting down before its result (%s) was stored", claim.nudge_id, result
                )
        return result

    def _content(
        self,
        analysis: Analysis | None,
        post_text: str | None,
        record: tuple[int, int, int],
        source: NudgeSource,
    ) -> NudgeContent:
        """Collect what the nudge says: the engine's roadblock and try-instead, a reflection of the post.

        ``record`` is (guild id, channel id, message id) of the reply the nudge is about.
        """
        guild_id, channel_id, message_id = record
        post_reflection = reflect(post_text) if post_text and text_problem(post_text) is None else None
        return nudge_content(
            analysis,
            post_reflection,
            place=f"<#{channel_id}>",
            jump_url=f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}",
            from_moderator=source == "moderator",
        )

    async def _send(
        self,
        member: discord.Member | discord.User,
        guild: discord.Guild,
        nudge_id: int,
        channel_id: int,
        content: NudgeContent,
        dm_fallback: DmFallback,
    ) -> str:
        """DM the nudge; if DMs are closed, do what the guild chose. Return the delivery result."""
        needs_intro = await self.repository.needs_intro(member.id)
        text = format_nudge(content, intro_guild=guild.name if needs_intro else None)
        try:
            await self._send_dm(member, text, nudge_id)
        except discord.Forbidden as error:
            if error.code != DMS_CLOSED_CODE:
                log.warning("nudge %s: DM refused (code %s)", nudge_id, error.code)
                return RESULT_FAILED
            if dm_fallback != "in_channel":
                return RESULT_DMS_CLOSED
            return await self._post_tip_button(member, guild, nudge_id, channel_id)
        except discord.HTTPException as error:
            log.warning("nudge %s: DM failed (status %s, code %s)", nudge_id, error.status, error.code)
            return RESULT_FAILED
        if needs_intro:
            await self.repository.mark_intro_sent(member.id, now=self.clock())
        return RESULT_DM

    async def _send_dm(self, member: discord.Member | discord.User, text: str, nudge_id: int) -> None:
        """DM ``text``, trying again after server errors (discord.py itself retries 500s and 429s)."""
        for attempt, pause in enumerate((*DM_RETRY_PAUSES, None), start=1):
            try:
                await member.send(text, allowed_mentions=NO_MENTIONS)
                return
            except discord.DiscordServerError as error:
                if pause is None:
                    raise
                log.warning(
                    "nudge %s: DM attempt %d failed (status %s); retrying", nudge_id, attempt, error.status
                )
                await asyncio.sleep(pause)

    async def _post_tip_button(
        self,
        member: discord.Member | discord.User,
        guild: discord.Guild,
        nudge_id: int,
        channel_id: int,
    ) -> str:
        """Post the short in-channel note (pings nobody) with the "Show tip" button only the member opens.

        The tip itself is not in the note: it is rebuilt from the stored ids when the member opens it.
        """
        channel = guild.get_channel_or_thread(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            log.warning("nudge %s: channel for the in-channel tip is gone", nudge_id)
            return RESULT_FAILED
        try:
            await channel.send(
                member_texts().get("nudge.in_channel", mention=member.mention),
                view=tip_view(member.id, nudge_id),
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException as error:
            log.warning(
                "nudge %s: in-channel tip failed (status %s, code %s)", nudge_id, error.status, error.code
            )
            return RESULT_FAILED
        return RESULT_IN_CHANNEL

    async def open_tip(self, interaction: discord.Interaction[Any], member_id: int, nudge_id: int) -> None:
        """Answer a "Show tip" click: the tip, ephemerally, only for the member it is for."""
        record = await self.repository.get(nudge_id)
        if (
            interaction.user.id != member_id
            or record is None
            or record.member_id != member_id
            or record.guild_id != interaction.guild_id
        ):
            await send_private(interaction, member_texts().get("nudge.tip_not_yours"))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        content = await self._rebuild_content(record)
        needs_intro = await self.repository.needs_intro(member_id)
        guild_name = interaction.guild.name if interaction.guild else "this server"
        text = format_nudge(content, intro_guild=guild_name if needs_intro else None)
        await interaction.edit_original_response(content=text, allowed_mentions=NO_MENTIONS)
        if needs_intro:
            await self.repository.mark_intro_sent(member_id, now=self.clock())
        await self._remove_note(interaction.message, nudge_id)

    async def _remove_note(self, note: discord.Message | None, nudge_id: int) -> None:
        """Delete the in-channel note once its tip was opened, so it doesn't linger (best effort)."""
        if note is None:
            return
        try:
            await note.delete()
        except discord.HTTPException as error:
            log.warning("nudge %s: could not remove the opened tip note (status %s)", nudge_id, error.status)

    async def _rebuild_content(self, record: NudgeRecord) -> NudgeContent:
        """Rebuild a tip from the stored ids (text is never stored): re-read the reply and its post.

        If the reply is gone or was edited into something kind, the tip falls back to the stored codes.
        """
        where = (record.guild_id, record.channel_id, record.message_id)
        message = await self._fetch_reply(record)
        if message is not None:
            post = await resolve_post(message, self.bot)
            post_text = post.content if post is not None and post.author.id != record.member_id else None
            analysis = analyze(message.content, post=post_text)
            if analysis.roadblocks:
                return self._content(analysis, post_text, where, record.source)
        return nudge_content(
            None,
            None,
            place=f"<#{record.channel_id}>",
            jump_url=None,
            codes=record.codes,
            from_moderator=record.source == "moderator",
        )

    async def _fetch_reply(self, record: NudgeRecord) -> discord.Message | None:
        """Return the member's reply a nudge is about, or None if it is gone or no longer theirs."""
        channel = self.bot.get_channel(record.channel_id)
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            return None
        try:
            message = await channel.fetch_message(record.message_id)
        except discord.HTTPException:
            return None
        if message.author.id != record.member_id or not message.content.strip():
            return None
        return message

    # ----- member commands: /nudges off | on | status --------------------------------------------

    @nudges.command(name="off", description="Stop Heard's private listening tips to you")
    async def nudges_off(self, interaction: discord.Interaction[Any]) -> None:
        """Opt the member out of nudges (everywhere Heard runs; survives restarts)."""
        await self.repository.set_opted_out(interaction.user.id, True, now=self.clock())
        await send_private(interaction, member_texts().get("nudges_command.off"))

    @nudges.command(name="on", description="Let Heard send you occasional private listening tips again")
    async def nudges_on(self, interaction: discord.Interaction[Any]) -> None:
        """Opt the member back in to nudges."""
        await self.repository.set_opted_out(interaction.user.id, False, now=self.clock())
        await send_private(interaction, member_texts().get("nudges_command.on"))

    @nudges.command(name="status", description="See whether Heard's private listening tips are on for you")
    async def nudges_status(self, interaction: discord.Interaction[Any]) -> None:
        """Tell the member whether nudges are on or off for them."""
        opted_out = await self.repository.is_opted_out(interaction.user.id)
        await send_private(
            interaction, member_texts().get(f"nudges_command.status_{'off' if opted_out else 'on'}")
        )

    # ----- admin command: /heard nudges ------------------------------------------------------------

    @heard.command(name="nudges", description="Private listening nudges: DM fallback, exempt role, limits")
    @app_commands.describe(
        dm_fallback="When a member's DMs are closed: do nothing, or post a tip button only they can open",
        exempt_role="Members with this role are never nudged (for example trained listeners)",
        clear_exempt_role="Remove the exempt role",
        cooldown_minutes=f"Minutes between nudges to one member (0 to {MAX_COOLDOWN_MINUTES}; default 10)",
        daily_cap=f"Most nudges per member in 24 hours (0 to {MAX_DAILY_CAP}; 0 turns nudges off; default 5)",
    )
    @app_commands.choices(
        dm_fallback=[
            app_commands.Choice(name="Do nothing", value="nothing"),
            app_commands.Choice(name="In-channel tip button (pings nobody)", value="in_channel"),
        ]
    )
    @admin_only
    async def heard_nudges(
        self,
        interaction: discord.Interaction[Any],
        dm_fallback: str | None = None,
        exempt_role: discord.Role | None = None,
        clear_exempt_role: bool = False,
        cooldown_minutes: int | None = None,
        daily_cap: int | None = None,
    ) -> None:
        """Change (or, with no options, show) this server's nudge settings."""
        assert interaction.guild is not None
        problem = _settings_problem(dm_fallback, exempt_role, cooldown_minutes, daily_cap)
        if problem is not None:
            await send_private(interaction, f"{problem} Nothing was changed.")
            return
        changes: dict[str, Any] = {}
        if dm_fallback is not None:
            changes["dm_fallback"] = dm_fallback
        if clear_exempt_role:
            changes["exempt_role_id"] = None
        elif exempt_role is not None:
            changes["exempt_role_id"] = exempt_role.id
        if cooldown_minutes is not None:
            changes["cooldown_minutes"] = cooldown_minutes
        if daily_cap is not None:
            changes["daily_cap"] = daily_cap
        if changes:
            settings = await self.repository.update_settings(
                interaction.guild.id, by_user_id=interaction.user.id, now=self.clock(), **changes
            )
            heading = "Saved. Listening nudges in this server:"
        else:
            settings = await self.repository.settings(interaction.guild.id)
            heading = "Listening nudges in this server (pass options to change them):"
        lines = [heading] + [f"• {name}: {value}" for name, value in _describe_settings(settings)]
        await send_private(interaction, "\n".join(lines))

    async def describe_guild(self, guild_id: int) -> list[tuple[str, str]]:
        """Return this cog's section of ``/heard status``: settings and the last week's nudge counts."""
        settings = await self.repository.settings(guild_id)
        counts = await self.repository.result_counts(guild_id, since=self.clock() - timedelta(days=7))
        summary = "\n".join(f"{name}: {value}" for name, value in _describe_settings(settings))
        sent = counts.get(RESULT_DM, 0) + counts.get(RESULT_IN_CHANNEL, 0)
        week = f"Last 7 days: {sent} delivered of {sum(counts.values())} tried"
        if counts.get(RESULT_DMS_CLOSED):
            week += f", {counts[RESULT_DMS_CLOSED]} to members with closed DMs"
        if counts.get(RESULT_FAILED):
            week += f", {counts[RESULT_FAILED]} failed (Discord refused or was down; see the logs)"
        return [("Listening nudges", f"{summary}\n{week}.")]


def _settings_problem(
    dm_fallback: str | None,
    exempt_role: discord.Role | None,
    cooldown_minutes: int | None,
    daily_cap: int | None,
) -> str | None:
    """Return a sentence explaining a bad ``/heard nudges`` option, or None if all are fine."""
    if dm_fallback is not None and dm_fallback not in ("nothing", "in_channel"):
        return "The DM fallback must be “Do nothing” or “In-channel tip button”."
    if exempt_role is not None and exempt_role.is_default():
        return "@everyone can't be the exempt role (to stop nudges for everyone, set daily_cap to 0)."
    if cooldown_minutes is not None and not 0 <= cooldown_minutes <= MAX_COOLDOWN_MINUTES:
        return f"The cooldown must be between 0 and {MAX_COOLDOWN_MINUTES:,} minutes."
    if daily_cap is not None and not 0 <= daily_cap <= MAX_DAILY_CAP:
        return f"The daily cap must be between 0 and {MAX_DAILY_CAP}."
    return None


def _describe_settings(settings: NudgeSettings) -> list[tuple[str, str]]:
    """Return the settings as readable (name, value) pairs."""
    fallback = (
        "post a tip button only they can open (pings nobody)"
        if settings.dm_fallback == "in_channel"
        else "do nothing"
    )
    exempt = f"<@&{settings.exempt_role_id}>" if settings.exempt_role_id else "none"
    cap = "nudges off" if settings.daily_cap == 0 else f"{settings.daily_cap} per member per 24 hours"
    return [
        ("When DMs are closed", fallback),
        ("Exempt role", exempt),
        ("Cooldown", f"{settings.cooldown_minutes} minutes per member"),
        ("Daily cap", cap),
    ]


async def setup(bot: HeardBot) -> None:
    """Load the nudges cog."""
    await bot.add_cog(Nudges(bot))

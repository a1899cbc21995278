"""Moderator tooling: flag alerts for hurtful replies, review buttons, the queue commands and the outbox.

Reading order: the review buttons (persistent ``DynamicItem``), the cog's life cycle (it owns the alert
dispatcher of ``bot/alerts.py``), the pipeline listener that records flags, alert rendering, the button
handlers, then the ``/heard alerts|flags|flag|stats`` commands. Heard never deletes or punishes on its own:
a flag is evidence for moderators, who decide.
"""

from __future__ import annotations

import contextlib
import logging
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.alerts import AlertDispatcher, RenderedAlert, RetryPolicy
from bot.checks import admin_only, is_moderator, own_permissions
from bot.replies import send_private, try_send_private
from bot.storage.alert_outbox import AlertOutboxRepository, OutboxItem, utc_now
from bot.storage.flags import (
    FLAG_STATUSES,
    AuditEntry,
    Flag,
    FlagCandidate,
    FlagRepository,
    ModerationSettings,
    ModerationSettingsRepository,
)
from bot.tree import SOMETHING_WENT_WRONG, heard_group
from cogs._moderation_common import (
    FLAG_CODE_CHOICES,
    excerpt_of,
    flaggable_roadblocks,
    jump_link,
    member_ref,
    moderation_texts,
    sensitivity_thresholds,
    unix_time,
)

if TYPE_CHECKING:
    from bot.bot import HeardBot
    from bot.support import SupportMessage

log = logging.getLogger(__name__)

FLAG_ACTIONS: tuple[str, ...] = ("resolve", "false_alarm", "nudge", "delete", "history")
DECISION_STATUS: dict[str, str] = {"resolve": "resolved", "false_alarm": "false_alarm"}
BUTTON_STYLES: dict[str, discord.ButtonStyle] = {
    "resolve": discord.ButtonStyle.success,
    "false_alarm": discord.ButtonStyle.secondary,
    "nudge": discord.ButtonStyle.primary,
    "delete": discord.ButtonStyle.danger,
    "history": discord.ButtonStyle.secondary,
}
STATUS_COLOURS: dict[str, discord.Colour] = {
    "open": discord.Colour.orange(),
    "resolved": discord.Colour.green(),
    "false_alarm": discord.Colour.light_grey(),
    "nudged": discord.Colour.blurple(),
    "deleted": discord.Colour.dark_grey(),
}
DELIVERED_NUDGES = frozenset({"dm", "in_channel"})
PAGE_SIZE = 8
HISTORY_LIMIT = 10
PAGER_TIMEOUT = 600.0


class FlagButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"heard:flag:(?P<action>resolve|false_alarm|nudge|delete|history):(?P<flag_id>[0-9]{1,19})",
):
    """A review button on a flag alert; action and flag id live in the custom_id (so it survives restarts)."""

    def __init__(self, action: str, flag_id: int, *, disabled: bool = False) -> None:
        """Build the button for ``action`` on flag ``flag_id``."""
        self.action = action
        self.flag_id = flag_id
        super().__init__(
            discord.ui.Button(
                label=moderation_texts().label("buttons", action),
                style=BUTTON_STYLES[action],
                custom_id=f"heard:flag:{action}:{flag_id}",
                disabled=disabled,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FlagButton:
        """Rebuild the button from a clicked custom_id."""
        return cls(match["action"], int(match["flag_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Hand the click to the moderation cog (which checks the clicker every time)."""
        cog = (
            interaction.client.get_cog("Moderation") if isinstance(interaction.client, commands.Bot) else None
        )
        if not isinstance(cog, Moderation):
            await send_private(interaction, moderation_texts().get("replies.unavailable"))
            return
        try:
            await cog.handle_flag_button(interaction, self.action, self.flag_id)
        except Exception:
            log.exception("flag button %s on flag %s failed", self.action, self.flag_id)
            await try_send_private(interaction, SOMETHING_WENT_WRONG)


def flag_view(flag: Flag) -> discord.ui.View:
    """Return the review buttons for ``flag`` (the button matching its current status is disabled)."""
    view = discord.ui.View(timeout=None)
    for action in FLAG_ACTIONS:
        done = DECISION_STATUS.get(action) == flag.status or (action == "nudge" and flag.status == "nudged")
        done = done or (action == "delete" and flag.status == "deleted")
        view.add_item(FlagButton(action, flag.id, disabled=done))
    return view


class Moderation(commands.Cog):
    """Flags hurtful replies to moderators, records their decisions, and delivers every alert once."""

    heard = heard_group()

    def __init__(self, bot: HeardBot) -> None:
        """Create the repositories and the alert dispatcher (started in :meth:`cog_load`)."""
        self.bot = bot
        self.flags = FlagRepository(bot.db)
        self.settings = ModerationSettingsRepository(bot.db)
        self.outbox = AlertOutboxRepository(bot.db)
        settings = bot.settings
        self.dispatcher = AlertDispatcher(
            bot,
            self.outbox,
            retry=RetryPolicy(
                base_seconds=float(getattr(settings, "alert_retry_base_seconds", 2.0)),
                max_seconds=float(getattr(settings, "alert_retry_max_seconds", 300.0)),
            ),
            lease_seconds=float(getattr(settings, "alert_lease_seconds", 120.0)),
            report_blocked=self.report_blocked,
        )
        self._dispatcher_task: Any = None

    async def cog_load(self) -> None:
        """Register the persistent review buttons and start delivering stored alerts."""
        self.bot.add_dynamic_items(FlagButton)
        self._dispatcher_task = self.bot.start_background_task(self.dispatcher.run(), name="alert-outbox")

    async def cog_unload(self) -> None:
        """Stop the dispatcher (its leases are released) and unregister the buttons."""
        self.bot.remove_dynamic_items(FlagButton)
        task = self._dispatcher_task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):  # cancellation, or a failure the bot already logged
                await task

    # ---------------------------------------------------------------- pipeline: record a flag

    @commands.Cog.listener("on_heard_message")
    async def flag_reply(self, event: SupportMessage) -> None:
        """Record a flag for a reply with flag-tier roadblocks above the guild's threshold, then alert."""
        if event.guild_id is None or not event.is_reply_to_other or event.message.author.bot:
            return
        if not any(roadblock.tier == "flag" for roadblock in event.analysis.roadblocks):
            return
        config = await self.bot.guild_configs.get(event.guild_id)
        if config.mod_channel_id is None:
            return
        settings = await self.settings.get(event.guild_id)
        threshold = sensitivity_thresholds().get(settings.sensitivity, 0.6)
        roadblocks = flaggable_roadblocks(
            event.analysis, threshold=threshold, disabled=settings.disabled_codes
        )
        if not roadblocks:
            return
        message = event.message
        excerpt = (
            excerpt_of(message.content, [r.span for r in roadblocks]) if settings.excerpts_enabled else None
        )
        candidate = FlagCandidate(
            guild_id=event.guild_id,
            channel_id=message.channel.id,
            message_id=message.id,
            author_id=message.author.id,
            codes=tuple((r.code, r.confidence) for r in roadblocks),
            post_channel_id=event.post.channel.id if event.post is not None else None,
            post_message_id=event.post.id if event.post is not None else None,
            excerpt=excerpt,
            crisis_context=event.crisis_context,
        )
        recorded = await self.flags.record(candidate, dedup_window_minutes=settings.dedup_window_minutes)
        log.info(
            "flag %s %s in guild %s for message %s (codes %s)",
            recorded.flag.id,
            recorded.outcome,
            event.guild_id,
            message.id,
            ",".join(recorded.flag.codes),
        )
        self.dispatcher.wake()

    # ---------------------------------------------------------------- alert rendering and delivery hooks

    async def render_alert(self, item: OutboxItem) -> RenderedAlert | None:
        """Render the alert of a stored flag for the outbox (None if the flag is gone)."""
        flag = await self.flags.get(item.guild_id, item.ref_id)
        if flag is None:
            return None
        config = await self.bot.guild_configs.get(item.guild_id)
        settings = await self.settings.get(item.guild_id)
        return RenderedAlert(
            channel_id=config.mod_channel_id,
            marker=moderation_texts().get("flag_alert.footer", flag_id=flag.id),
            embed=await self.flag_embed(flag, settings),
            view=flag_view(flag),
        )

    async def flag_embed(self, flag: Flag, settings: ModerationSettings) -> discord.Embed:
        """Return the alert embed of ``flag``: who, where, the post, codes, confidence, excerpt, outcome."""
        texts = moderation_texts()
        lines = [
            texts.get("flag_alert.who", member=member_ref(flag.author_id)),
            texts.get(
                "flag_alert.where",
                link=jump_link(flag.guild_id, flag.channel_id, flag.message_id),
                channel_id=flag.channel_id,
            ),
        ]
        if flag.post_channel_id is not None and flag.post_message_id is not None:
            lines.append(
                texts.get(
                    "flag_alert.post",
                    link=jump_link(flag.guild_id, flag.post_channel_id, flag.post_message_id),
                )
            )
        else:
            lines.append(texts.get("flag_alert.no_post"))
        if flag.occurrences > 1:
            lines.append(
                texts.get(
                    "flag_alert.repeats",
                    count=flag.occurrences,
                    link=jump_link(flag.guild_id, flag.latest_channel_id, flag.latest_message_id),
                )
            )
        if flag.crisis_context:
            lines.append(texts.get("flag_alert.crisis_context"))
        deleted, total = await self.flags.deleted_message_count(flag.id)
        if total and deleted == total and flag.status != "deleted":
            lines.append(texts.get("flag_alert.message_gone"))
        if flag.status != "open" and flag.decided_by is not None:
            lines.append(
                "\n"
                + texts.get(
                    "flag_alert.decision",
                    status=f"**{texts.label('status', flag.status)}**",
                    actor=member_ref(flag.decided_by, with_id=False),
                    unix=unix_time(flag.decided_at),
                )
            )
        embed = discord.Embed(
            title=texts.get("flag_alert.title", flag_id=flag.id),
            description="\n".join(lines),
            colour=STATUS_COLOURS.get(flag.status, discord.Colour.orange()),
        )
        pairs = await self.flags.code_confidences(flag.id)
        embed.add_field(
            name=texts.get("flag_alert.codes_heading"),
            value="\n".join(
                f"• **{code}** ({confidence:.2f}): {texts.label('codes', code)}" for code, confidence in pairs
            )
            or "—",
            inline=False,
        )
        embed.add_field(name=texts.get("flag_alert.confidence"), value=f"{flag.confidence:.2f}", inline=True)
        if settings.excerpts_enabled and flag.excerpt:
            embed.add_field(name=texts.get("flag_alert.excerpt"), value=f"> {flag.excerpt}", inline=False)
        elif not settings.excerpts_enabled:
            embed.add_field(name=texts.get("flag_alert.excerpt"), value=texts.get("flag_alert.excerpts_off"))
        embed.set_footer(text=texts.get("flag_alert.footer", flag_id=flag.id))
        return embed

    async def alert_delivered(self, guild_id: int) -> None:
        """An alert went through: a permission problem reported earlier is over."""
        await self.settings.clear_permission_report(guild_id)

    async def report_blocked(self, guild_id: int, channel_id: int | None, problem: str) -> None:
        """Tell the admin who ran setup, once per outage, that alerts can't be posted and why."""
        if not await self.settings.claim_permission_report(guild_id):
            return
        config = await self.bot.guild_configs.get(guild_id)
        if config.setup_by_user_id is None:
            return
        guild = self.bot.get_guild(guild_id)
        text = moderation_texts().get(
            f"replies.blocked_{problem}",
            channel_id=channel_id or 0,
            guild_name=guild.name if guild is not None else "your server",
        )
        try:
            user = self.bot.get_user(config.setup_by_user_id) or await self.bot.fetch_user(
                config.setup_by_user_id
            )
            await user.send(text, allowed_mentions=discord.AllowedMentions.none())
            log.warning("told the setup admin of guild %s that alerts are blocked (%s)", guild_id, problem)
        except discord.HTTPException as error:
            log.warning(
                "could not tell the setup admin of guild %s about blocked alerts (status %s, code %s)",
                guild_id,
                error.status,
                error.code,
            )

    @commands.Cog.listener("on_raw_message_delete")
    async def flagged_message_deleted(self, payload: discord.RawMessageDeleteEvent) -> None:
        """Show on the alert that a flagged reply was deleted (by its author or anyone else)."""
        if payload.guild_id is None:
            return
        if await self.flags.mark_message_deleted(payload.guild_id, payload.message_id) is not None:
            self.dispatcher.wake()

    @commands.Cog.listener("on_raw_bulk_message_delete")
    async def flagged_messages_deleted(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        """Like :meth:`flagged_message_deleted`, for a bulk delete."""
        if payload.guild_id is None:
            return
        for message_id in payload.message_ids:
            await self.flags.mark_message_deleted(payload.guild_id, message_id)
        self.dispatcher.wake()

    @commands.Cog.listener("on_app_command_completion")
    async def setup_changed(self, interaction: discord.Interaction[Any], command: Any) -> None:
        """After ``/heard setup``, retry waiting alerts at once (a new channel may fix what blocked them)."""
        if interaction.guild is None or getattr(command, "qualified_name", "") != "heard setup":
            return
        await self.settings.clear_permission_report(interaction.guild.id)
        if await self.outbox.retry_now(interaction.guild.id):
            self.dispatcher.wake()

    # ---------------------------------------------------------------- review buttons

    async def handle_flag_button(
        self, interaction: discord.Interaction[Any], action: str, flag_id: int
    ) -> None:
        """Check the clicker, find the flag in this guild, and carry out ``action``."""
        texts = moderation_texts()
        if interaction.guild is None:
            await send_private(interaction, texts.get("replies.moderator_refusal"))
            return
        config = await self.bot.guild_configs.get(interaction.guild.id)
        if not is_moderator(interaction, config.mod_role_id):
            log.info("refused flag button %s from non-moderator %s", action, interaction.user.id)
            await send_private(interaction, texts.get("replies.moderator_refusal"))
            return
        flag = await self.flags.get(interaction.guild.id, flag_id)
        if flag is None:
            await send_private(interaction, texts.get("replies.flag_not_here", flag_id=flag_id))
            return
        if action in DECISION_STATUS:
            await self._decide_and_show(interaction, flag, action=action, new_status=DECISION_STATUS[action])
        elif action == "nudge":
            await self._nudge_author(interaction, flag)
        elif action == "delete":
            await self._delete_messages(interaction, flag)
        elif action == "history":
            await self._show_history(interaction, flag)

    async def _decide_and_show(
        self,
        interaction: discord.Interaction[Any],
        flag: Flag,
        *,
        action: str,
        new_status: str,
        detail: str = "",
        note: str | None = None,
    ) -> None:
        """Commit a decision (status + audit row), then edit the alert to show outcome, who and when."""
        assert interaction.guild is not None
        decision = await self.flags.decide(
            interaction.guild.id,
            flag.id,
            actor_id=interaction.user.id,
            action=action,
            new_status=new_status,
            detail=detail,
        )
        if decision is None:
            await send_private(interaction, moderation_texts().get("replies.flag_not_here", flag_id=flag.id))
            return
        log.info(
            "flag %s: %s by %s (%s -> %s)",
            flag.id,
            action,
            interaction.user.id,
            decision.before.status,
            new_status,
        )
        settings = await self.settings.get(interaction.guild.id)
        embed = await self.flag_embed(decision.after, settings)
        view = flag_view(decision.after)
        try:
            if interaction.response.is_done():
                await interaction.edit_original_response(embed=embed, view=view)
            else:
                await interaction.response.edit_message(embed=embed, view=view)
        except discord.HTTPException as error:
            log.warning("could not edit the alert of flag %s now (status %s); queued", flag.id, error.status)
            await self.flags.request_alert_refresh(decision.after)
            self.dispatcher.wake()
        reply = note or moderation_texts().get(
            "replies.decided", flag_id=flag.id, status=moderation_texts().label("status", new_status)
        )
        if interaction.response.is_done():
            await interaction.followup.send(reply, ephemeral=True)

    async def _nudge_author(self, interaction: discord.Interaction[Any], flag: Flag) -> None:
        """Send the flagged member the private nudge of the member features; record the result."""
        texts = moderation_texts()
        assert interaction.guild is not None
        nudges = self.bot.get_cog("Nudges")
        deliver = getattr(nudges, "deliver_nudge", None)
        if deliver is None:
            await send_private(interaction, texts.get("replies.nudge_unavailable"))
            return
        await interaction.response.defer()
        guild = interaction.guild
        member = guild.get_member(flag.author_id)
        if member is None:
            try:
                member = await guild.fetch_member(flag.author_id)
            except discord.NotFound:
                await interaction.followup.send(texts.get("replies.nudge_member_gone"), ephemeral=True)
                return
        try:
            channel = self.bot.get_partial_messageable(flag.latest_channel_id, guild_id=guild.id)
            message = await channel.fetch_message(flag.latest_message_id)
        except discord.NotFound:
            await interaction.followup.send(texts.get("replies.nudge_message_gone"), ephemeral=True)
            return
        post_text = await self._post_text(flag)
        from bot.listening import analyze

        analysis = analyze(message.content, post=post_text)
        result = str(
            await deliver(
                member,
                guild,
                flag.latest_channel_id,
                flag.latest_message_id,
                analysis,
                post_text,
                source="moderator",
            )
        )
        if result in DELIVERED_NUDGES:
            await self._decide_and_show(
                interaction,
                flag,
                action="nudge",
                new_status="nudged",
                detail=result,
                note=texts.get("replies.nudge_result", flag_id=flag.id, result=result.replace("_", " ")),
            )
            return
        await self.flags.decide(
            guild.id,
            flag.id,
            actor_id=interaction.user.id,
            action="nudge",
            new_status=flag.status,
            detail=result,
        )
        await interaction.followup.send(
            texts.get(
                "replies.nudge_not_delivered",
                result=result.replace("_", " "),
                status=texts.label("status", flag.status).lower(),
            ),
            ephemeral=True,
        )

    async def _post_text(self, flag: Flag) -> str | None:
        """Fetch the text of the post the flagged reply answered (None if unknown or gone)."""
        if flag.post_channel_id is None or flag.post_message_id is None:
            return None
        try:
            channel = self.bot.get_partial_messageable(flag.post_channel_id, guild_id=flag.guild_id)
            return (await channel.fetch_message(flag.post_message_id)).content
        except discord.HTTPException:
            return None

    async def _delete_messages(self, interaction: discord.Interaction[Any], flag: Flag) -> None:
        """Delete the flagged message(s) if Heard has Manage Messages there; otherwise say so."""
        texts = moderation_texts()
        guild = interaction.guild
        assert guild is not None
        channel = guild.get_channel_or_thread(flag.channel_id)
        permissions = own_permissions(channel) if channel is not None else None
        if permissions is not None and not permissions.manage_messages:  # unknown: try, Forbidden is handled
            await send_private(
                interaction, texts.get("replies.delete_missing_permission", channel_id=flag.channel_id)
            )
            return
        await interaction.response.defer()
        deleted = gone = 0
        for channel_id, message_id in await self.flags.messages(flag.id):
            try:
                await (
                    self.bot.get_partial_messageable(channel_id, guild_id=guild.id)
                    .get_partial_message(message_id)
                    .delete()
                )
                deleted += 1
            except discord.NotFound:
                gone += 1
            except discord.Forbidden:
                await interaction.followup.send(
                    texts.get("replies.delete_missing_permission", channel_id=channel_id), ephemeral=True
                )
                return
        note = texts.get(
            "replies.delete_done",
            deleted=deleted,
            flag_id=flag.id,
            gone=texts.get("replies.delete_already_gone", count=gone) if gone else "",
        )
        await self._decide_and_show(
            interaction,
            flag,
            action="delete",
            new_status="deleted",
            detail=f"deleted {deleted}, gone {gone}",
            note=note,
        )

    async def _show_history(self, interaction: discord.Interaction[Any], flag: Flag) -> None:
        """Show (ephemerally) this member's earlier flags in this guild and their outcomes."""
        texts = moderation_texts()
        earlier = await self.flags.history(
            flag.guild_id, flag.author_id, before_flag_id=flag.id, limit=HISTORY_LIMIT
        )
        if not earlier:
            await send_private(
                interaction,
                texts.get("replies.history_empty", member=member_ref(flag.author_id, with_id=False)),
            )
            return
        embed = discord.Embed(
            title=f"Flag #{flag.id}",
            description=texts.get("replies.history_heading", member=member_ref(flag.author_id, with_id=False))
            + "\n"
            + "\n".join(_flag_line(texts, earlier_flag) for earlier_flag in earlier),
            colour=discord.Colour.blurple(),
        )
        await send_private(interaction, embed=embed)

    # ---------------------------------------------------------------- commands

    @heard.command(
        name="alerts", description="Moderator alert settings: sensitivity, excerpts, windows, codes"
    )
    @app_commands.describe(
        sensitivity="How sure Heard must be before flagging a reply to moderators",
        excerpts="Include the matched words (at most 200 characters) in flag alerts",
        dedup_minutes="Repeats by one member and code within this many minutes update one alert (0 = off)",
        crisis_message_minutes="At most one private check-in message per member within this many minutes",
        code="A flag code to switch on or off",
        code_enabled="Whether that code raises flags in this server",
    )
    @app_commands.choices(
        sensitivity=[
            app_commands.Choice(name="Conservative (fewest alerts)", value="conservative"),
            app_commands.Choice(name="Balanced", value="balanced"),
            app_commands.Choice(name="Sensitive (more alerts)", value="sensitive"),
        ],
        code=[app_commands.Choice(name=code.replace("_", " "), value=code) for code in FLAG_CODE_CHOICES],
    )
    @admin_only
    async def alerts_command(
        self,
        interaction: discord.Interaction[Any],
        sensitivity: str | None = None,
        excerpts: bool | None = None,
        dedup_minutes: app_commands.Range[int, 0, 10080] | None = None,
        crisis_message_minutes: app_commands.Range[int, 0, 10080] | None = None,
        code: str | None = None,
        code_enabled: bool | None = None,
    ) -> None:
        """Change (or, with no options, show) the guild's moderator alert settings."""
        assert interaction.guild is not None
        if (code is None) != (code_enabled is None):
            await send_private(
                interaction,
                "Please give both **code** and **code_enabled** to switch a code. Nothing was changed.",
            )
            return
        changed = any(
            value is not None
            for value in (sensitivity, excerpts, dedup_minutes, crisis_message_minutes, code)
        )
        note = ""
        if changed:
            before = await self.settings.get(interaction.guild.id)
            settings = await self.settings.update(
                interaction.guild.id,
                sensitivity=sensitivity,
                excerpts_enabled=excerpts,
                dedup_window_minutes=dedup_minutes,
                crisis_message_window_minutes=crisis_message_minutes,
                enable_codes=[code] if code is not None and code_enabled else [],
                disable_codes=[code] if code is not None and code_enabled is False else [],
            )
            if before.excerpts_enabled and not settings.excerpts_enabled:
                cleared = await self.flags.clear_excerpts(interaction.guild.id)
                self.dispatcher.wake()
                note = "\n" + moderation_texts().get("replies.excerpts_cleared", count=cleared)
        else:
            settings = await self.settings.get(interaction.guild.id)
        heading = (
            moderation_texts().get("replies.alerts_saved") if changed else "Moderator alerts in this server:"
        )
        await send_private(interaction, heading + "\n" + _describe_settings(settings) + note)

    @heard.command(name="flags", description="Moderators: the review queue of flags, newest first")
    @app_commands.describe(
        status="Which flags to list (default: open)", code="Only flags with this code", page="Page number"
    )
    @app_commands.choices(
        status=[
            app_commands.Choice(name=status.replace("_", " "), value=status)
            for status in (*FLAG_STATUSES, "all")
        ],
        code=[app_commands.Choice(name=code.replace("_", " "), value=code) for code in FLAG_CODE_CHOICES],
    )
    async def flags_command(
        self,
        interaction: discord.Interaction[Any],
        status: str = "open",
        code: str | None = None,
        page: app_commands.Range[int, 1, 10000] = 1,
    ) -> None:
        """List the guild's flags, paginated, filtered by status and code (moderators only)."""
        if not await self._moderator_or_refuse(interaction):
            return
        assert interaction.guild is not None
        pager = FlagsPager(self, interaction.user.id, interaction.guild.id, status=status, code=code)
        embed = await pager.render(page - 1)
        if embed is None:
            await send_private(interaction, moderation_texts().get("replies.flags_empty"))
            return
        if pager.page_index != page - 1:
            await send_private(
                interaction,
                moderation_texts().get("replies.unknown_page", page=page, pages=pager.page_count),
            )
            return
        await send_private(interaction, embed=embed, view=pager if pager.page_count > 1 else None)

    @heard.command(name="flag", description="Moderators: one flag's details and decision history")
    @app_commands.describe(id="The flag number shown on the alert (Flag #…)")
    async def flag_command(
        self, interaction: discord.Interaction[Any], id: app_commands.Range[int, 1]
    ) -> None:
        """Show a flag of this guild with its audit trail; another guild's flag ids are refused."""
        if not await self._moderator_or_refuse(interaction):
            return
        assert interaction.guild is not None
        texts = moderation_texts()
        flag = await self.flags.get(interaction.guild.id, id)
        if flag is None:
            await send_private(interaction, texts.get("replies.flag_not_here", flag_id=id))
            return
        embed = await self.flag_embed(flag, await self.settings.get(interaction.guild.id))
        trail = await self.flags.audit_trail(interaction.guild.id, flag.id)
        history = "\n".join(_audit_line(entry) for entry in trail)
        embed.add_field(name="Decisions", value=(history or "None yet.")[:1024], inline=False)
        await send_private(interaction, embed=embed)

    @heard.command(name="stats", description="Moderators: flags by code and outcome over 7 and 30 days")
    async def stats_command(self, interaction: discord.Interaction[Any]) -> None:
        """Show counts by code and outcome over 7 and 30 days, and the false-alarm rate per code."""
        if not await self._moderator_or_refuse(interaction):
            return
        assert interaction.guild is not None
        now = utc_now()
        week = {
            entry.code: entry
            for entry in await self.flags.stats(interaction.guild.id, since=now - timedelta(days=7))
        }
        month = await self.flags.stats(interaction.guild.id, since=now - timedelta(days=30))
        if not month:
            await send_private(interaction, moderation_texts().get("replies.stats_empty"))
            return
        embed = discord.Embed(title="Flags in this server", colour=discord.Colour.blurple())
        for entry in month:
            weekly = week.get(entry.code)
            outcomes = ", ".join(
                f"{moderation_texts().label('status', status).lower()} {count}"
                for status, count in sorted(entry.by_status.items())
            )
            rate = entry.false_alarm_rate
            embed.add_field(
                name=entry.code.replace("_", " "),
                value=(
                    f"7 days: **{weekly.total if weekly else 0}** · 30 days: **{entry.total}**\n"
                    f"30-day outcomes: {outcomes}\n"
                    f"False-alarm rate: {'—' if rate is None else f'{rate:.0%}'}"
                ),
                inline=False,
            )
        await send_private(interaction, embed=embed)

    async def _moderator_or_refuse(self, interaction: discord.Interaction[Any]) -> bool:
        """Return True for moderators; otherwise answer with an ephemeral refusal."""
        if interaction.guild is None:
            await send_private(interaction, "This only works inside a server.")
            return False
        config = await self.bot.guild_configs.get(interaction.guild.id)
        if is_moderator(interaction, config.mod_role_id):
            return True
        await send_private(interaction, "Only this server's moderators can see flags, so nothing was shown.")
        return False

    async def describe_guild(self, guild_id: int) -> list[tuple[str, str]]:
        """Return the moderation section of ``/heard status``."""
        settings = await self.settings.get(guild_id)
        waiting = await self.outbox.pending_count(guild_id)
        value = _describe_settings(settings)
        if waiting:
            value += f"\nAlerts waiting to be delivered: {waiting}"
        return [("Moderator alerts", value)]


class FlagsPager(discord.ui.View):
    """Previous/next buttons for the ephemeral ``/heard flags`` list (only its requester can page)."""

    def __init__(
        self, cog: Moderation, user_id: int, guild_id: int, *, status: str, code: str | None
    ) -> None:
        """Remember the filter; pages are read from the database on each click."""
        super().__init__(timeout=PAGER_TIMEOUT)
        self.cog = cog
        self.user_id = user_id
        self.guild_id = guild_id
        self.status = None if status == "all" else status
        self.code = code
        self.page_index = 0
        self.page_count = 1

    async def render(self, page_index: int) -> discord.Embed | None:
        """Return the embed of one page (clamped to the last page), or None when nothing matches."""
        flags, total = await self.cog.flags.list_page(
            self.guild_id, status=self.status, code=self.code, limit=PAGE_SIZE, offset=page_index * PAGE_SIZE
        )
        if total == 0:
            return None
        self.page_count = max(1, -(-total // PAGE_SIZE))
        if not flags:
            page_index = self.page_count - 1
            flags, total = await self.cog.flags.list_page(
                self.guild_id,
                status=self.status,
                code=self.code,
                limit=PAGE_SIZE,
                offset=page_index * PAGE_SIZE,
            )
        self.page_index = page_index
        self.previous_page.disabled = page_index <= 0
        self.next_page.disabled = page_index >= self.page_count - 1
        texts = moderation_texts()
        title = f"Flags · {(self.status or 'all').replace('_', ' ')}"
        if self.code:
            title += f" · {self.code.replace('_', ' ')}"
        embed = discord.Embed(
            title=title,
            description="\n".join(_flag_line(texts, flag) for flag in flags),
            colour=discord.Colour.orange(),
        )
        embed.set_footer(text=f"Page {page_index + 1} of {self.page_count} · {total} flag(s)")
        return embed

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        """Only the moderator who asked can turn the pages."""
        if interaction.user.id == self.user_id:
            return True
        await send_private(interaction, "These pages belong to someone else's request.")
        return False

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        """Answer a failed page turn with one sentence instead of silence."""
        log.error("turning a flags page failed", exc_info=error)
        await try_send_private(interaction, SOMETHING_WENT_WRONG)

    @discord.ui.button(label="◀ Previous", style=discord.ButtonStyle.secondary)
    async def previous_page(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        """Show the previous page."""
        embed = await self.render(max(0, self.page_index - 1))
        await interaction.response.edit_message(embed=embed, view=self)

    @discord.ui.button(label="Next ▶", style=discord.ButtonStyle.secondary)
    async def next_page(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        """Show the next page."""
        embed = await self.render(self.page_index + 1)
        await interaction.response.edit_message(embed=embed, view=self)


def _flag_line(texts: Any, flag: Flag) -> str:
    """Return one line about a flag for lists: number, status, codes, who, link, when."""
    link = jump_link(flag.guild_id, flag.channel_id, flag.message_id)
    status = texts.label("status", flag.status)
    repeats = f" · ×{flag.occurrences}" if flag.occurrences > 1 else ""
    who = member_ref(flag.author_id, with_id=False)
    return (
        f"**#{flag.id}** · {status} · {', '.join(flag.codes)} · {who} · "
        f"[reply]({link}) · <t:{unix_time(flag.created_at)}:R>{repeats}"
    )


def _audit_line(entry: AuditEntry) -> str:
    """Return one decision of the audit trail: when, who, what, the status change and its detail."""
    detail = f" · {entry.detail}" if entry.detail else ""
    return (
        f"<t:{unix_time(entry.created_at)}:f> {member_ref(entry.actor_id, with_id=False)} "
        f"**{entry.action.replace('_', ' ')}** ({entry.previous_status} → {entry.new_status}){detail}"
    )


def _describe_settings(settings: ModerationSettings) -> str:
    """Return the guild's moderator alert settings as short lines."""
    off = ", ".join(sorted(settings.disabled_codes)) or "none"
    return (
        f"Sensitivity: **{settings.sensitivity}**\n"
        f"Excerpts in alerts: **{'on' if settings.excerpts_enabled else 'off'}**\n"
        f"Repeats update one alert within: **{settings.dedup_window_minutes} min**\n"
        f"Private check-in at most once per: **{settings.crisis_message_window_minutes} min**\n"
        f"Codes switched off: **{off}**"
    )


async def setup(bot: HeardBot) -> None:
    """Load the moderation cog."""
    await bot.add_cog(Moderation(bot))

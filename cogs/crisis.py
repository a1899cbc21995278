"""Crisis escalation: a moderator alert (link, indicator types, level — never the text) and a private,
warm safe-messaging check-in to the member, at most once per window. ``/heard helplines`` sets the list.

Reading order: the acknowledge button, the pipeline listener, the member check-in, alert rendering (the
outbox in ``bot/alerts.py`` delivers it), then ``/heard helplines``. Heard never deletes or punishes a
disclosure, and says it is software and not a crisis service.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.alerts import RenderedAlert
from bot.checks import admin_only, is_moderator
from bot.replies import send_private, try_send_private
from bot.storage.alert_outbox import OutboxItem
from bot.storage.crisis import DM_GUILD_ID, CrisisAlert, CrisisCandidate, CrisisRepository
from bot.storage.flags import ModerationSettings, ModerationSettingsRepository
from bot.support import guild_member
from bot.tree import SOMETHING_WENT_WRONG, heard_group
from cogs._moderation_common import (
    HELPLINE_COUNT,
    HELPLINE_LIMIT,
    clean_helplines,
    jump_link,
    member_ref,
    moderation_texts,
    unix_time,
)

if TYPE_CHECKING:
    from bot.bot import HeardBot
    from bot.support import SupportMessage

log = logging.getLogger(__name__)

ESCALATED_LEVELS = frozenset({"concern", "urgent"})
DISCORD_DMS_CLOSED = 50007
DEFAULT_DM_WINDOW_MINUTES = ModerationSettings(guild_id=0).crisis_message_window_minutes


class AcknowledgeButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"heard:crisis:ack:(?P<alert_id>[0-9]{1,19})"
):
    """ "I'm on it" on a crisis alert, so moderators don't double up (works after restarts)."""

    def __init__(self, alert_id: int, *, disabled: bool = False) -> None:
        """Build the button for crisis alert ``alert_id``."""
        self.alert_id = alert_id
        super().__init__(
            discord.ui.Button(
                label=moderation_texts().label("buttons", "acknowledge"),
                style=discord.ButtonStyle.primary,
                custom_id=f"heard:crisis:ack:{alert_id}",
                disabled=disabled,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AcknowledgeButton:
        """Rebuild the button from a clicked custom_id."""
        return cls(int(match["alert_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Hand the click to the crisis cog (which checks the clicker every time)."""
        cog = interaction.client.get_cog("Crisis") if isinstance(interaction.client, commands.Bot) else None
        if not isinstance(cog, Crisis):
            await send_private(interaction, moderation_texts().get("replies.unavailable"))
            return
        try:
            await cog.acknowledge(interaction, self.alert_id)
        except Exception:
            log.exception("acknowledging crisis alert %s failed", self.alert_id)
            await try_send_private(interaction, SOMETHING_WENT_WRONG)


class HelplinesModal(discord.ui.Modal, title="Helplines for members"):
    """One helpline per line, shown in the private check-in message."""

    lines: discord.ui.TextInput[HelplinesModal] = discord.ui.TextInput(
        label="One helpline per line",
        style=discord.TextStyle.paragraph,
        max_length=HELPLINE_LIMIT * 4,
        custom_id="heard_helplines_lines",
    )

    def __init__(self, cog: Crisis, current: list[str]) -> None:
        """Prefill the current list."""
        super().__init__()
        self.cog = cog
        self.lines.default = "\n".join(current)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        """Store the submitted list (checked again for Manage Server) and show it."""
        await self.cog.save_helplines(interaction, str(self.lines.value))

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, /) -> None:  # type: ignore[override]
        """Answer a failed save with one sentence instead of silence (nothing was stored)."""
        log.error("saving helplines failed", exc_info=error)
        await try_send_private(interaction, SOMETHING_WENT_WRONG)


class Crisis(commands.Cog):
    """Escalates crisis signals to moderators and privately offers the member helplines."""

    heard = heard_group()

    def __init__(self, bot: HeardBot) -> None:
        """Create the repositories."""
        self.bot = bot
        self.crisis = CrisisRepository(bot.db)
        self.settings = ModerationSettingsRepository(bot.db)

    async def cog_load(self) -> None:
        """Register the persistent acknowledge button."""
        self.bot.add_dynamic_items(AcknowledgeButton)

    async def cog_unload(self) -> None:
        """Unregister the persistent acknowledge button."""
        self.bot.remove_dynamic_items(AcknowledgeButton)

    # ---------------------------------------------------------------- pipeline: escalate

    @commands.Cog.listener("on_heard_message")
    async def escalate(self, event: SupportMessage) -> None:
        """For a concern or urgent message: alert the moderators, then check in privately with the member."""
        crisis = event.analysis.crisis
        if crisis.level not in ESCALATED_LEVELS or event.message.author.bot:
            return
        author = event.message.author
        guild_ids = (
            [event.guild_id] if event.guild_id is not None else await self._shared_guild_ids(author.id)
        )
        alerted: list[discord.Guild] = []
        alert_refs: list[tuple[int, int]] = []
        outcomes: set[str] = set()
        for guild_id in guild_ids:
            config = await self.bot.guild_configs.get(guild_id)
            if config.mod_channel_id is None:
                continue
            settings = await self.settings.get(guild_id)
            recorded = await self.crisis.record(
                CrisisCandidate(
                    guild_id=guild_id,
                    author_id=author.id,
                    channel_id=event.message.channel.id,
                    message_id=event.message.id,
                    level=crisis.level,
                    indicators=crisis.kinds,
                    in_dm=event.guild_id is None,
                ),
                dedup_window_minutes=settings.dedup_window_minutes,
            )
            log.info(
                "crisis alert %s %s in guild %s (level %s, message %s)",
                recorded.alert.id,
                recorded.outcome,
                guild_id,
                crisis.level,
                event.message.id,
            )
            alert_refs.append((guild_id, recorded.alert.id))
            outcomes.add(recorded.outcome)
            guild = self.bot.get_guild(guild_id)
            if guild is not None:
                alerted.append(guild)
        self._wake_outbox()
        if outcomes == {"already_recorded"}:
            return  # the gateway replayed a message already handled: no second check-in
        result = await self._check_in(event, alerted)
        await self.crisis.note_checkin(alert_refs, result)
        self._wake_outbox()

    async def _shared_guild_ids(self, user_id: int) -> list[int]:
        """Return the guilds a DM's author shares with Heard that have a moderator channel."""
        shared: list[int] = []
        for guild in self.bot.guilds:
            config = await self.bot.guild_configs.get(guild.id)
            if config.mod_channel_id is None:
                continue
            if await guild_member(guild, discord.Object(user_id)) is None:
                continue
            shared.append(guild.id)
        return shared

    def _wake_outbox(self) -> None:
        """Ask the moderation cog's alert dispatcher to look at the outbox now."""
        moderation = self.bot.get_cog("Moderation")
        dispatcher = getattr(moderation, "dispatcher", None)
        if dispatcher is not None:
            dispatcher.wake()

    # ---------------------------------------------------------------- the member's private check-in

    async def _check_in(self, event: SupportMessage, alerted: list[discord.Guild]) -> str:
        """Send the warm safe-messaging message, at most once per window (stored before it is sent).

        Returns how it went: ``dm``, ``failed_dms_closed``, ``failed`` or ``skipped`` (sent recently).
        """
        author = event.message.author
        guild = self.bot.get_guild(event.guild_id) if event.guild_id is not None else None
        settings_guild_id = (
            event.guild_id if event.guild_id is not None else (alerted[0].id if alerted else None)
        )
        window = (
            (await self.settings.get(settings_guild_id)).crisis_message_window_minutes
            if settings_guild_id is not None
            else DEFAULT_DM_WINDOW_MINUTES
        )
        checkin_id = await self.crisis.claim_checkin(
            event.guild_id if event.guild_id is not None else DM_GUILD_ID,
            author.id,
            level=event.analysis.crisis.level,
            window_minutes=window,
        )
        if checkin_id is None:
            log.info("crisis check-in for %s skipped: one was sent within the window", author.id)
            return "skipped"
        text = await self.checkin_text(author, guild, alerted)
        try:
            if event.guild_id is None:
                await event.message.channel.send(text, allowed_mentions=discord.AllowedMentions.none())
            else:
                await author.send(text, allowed_mentions=discord.AllowedMentions.none())
            result = "dm"
        except discord.Forbidden as error:
            result = "failed_dms_closed" if error.code == DISCORD_DMS_CLOSED else "failed"
        except discord.HTTPException as error:
            log.warning("crisis check-in to %s failed (status %s)", author.id, error.status)
            result = "failed"
        except Exception:
            log.exception("crisis check-in to %s failed", author.id)
            result = "failed"
        await self.crisis.set_checkin_result(checkin_id, result)
        log.info("crisis check-in %s to %s: %s", checkin_id, author.id, result)
        return result

    async def checkin_text(
        self, member: discord.abc.User, guild: discord.Guild | None, alerted: list[discord.Guild]
    ) -> str:
        """Return the private check-in: someone noticed, Heard is software, helplines, reach a moderator."""
        texts = moderation_texts()
        helpline_guild = guild or (alerted[0] if alerted else None)
        lines = await self.helplines_for(helpline_guild.id if helpline_guild else None)
        told_here = guild is not None and any(alerted_guild.id == guild.id for alerted_guild in alerted)
        if told_here and guild is not None:
            moderators = texts.get("checkin.moderators", guild_name=guild.name)
        elif guild is None and alerted:
            moderators = texts.get("checkin.dm_moderators")
        else:
            moderators = ""
        noticed = (
            texts.get("checkin.noticed", moderators=moderators)
            if moderators
            else texts.get("checkin.noticed_alone")
        )
        parts = [
            texts.get("checkin.greeting", name=discord.utils.escape_markdown(member.display_name)),
            noticed,
            texts.get("checkin.helplines_heading") + "\n" + "\n".join(f"• {line}" for line in lines),
            texts.get("checkin.emergency"),
        ]
        if guild is not None:
            config = await self.bot.guild_configs.get(guild.id)
            role = guild.get_role(config.mod_role_id) if config.mod_role_id else None
            parts.append(
                texts.get("checkin.reach_moderator", role_name=f"**{role.name}**", guild_name=guild.name)
                if role is not None
                else texts.get("checkin.reach_moderator_no_role", guild_name=guild.name)
            )
        else:
            parts.append(texts.get("checkin.dm_reach"))
        return "\n\n".join(parts)

    async def helplines_for(self, guild_id: int | None) -> list[str]:
        """Return the guild's helplines, or the defaults."""
        custom = await self.crisis.helplines(guild_id) if guild_id is not None else None
        return custom if custom else list(moderation_texts().lines("helplines.defaults"))

    # ---------------------------------------------------------------- alert rendering (for the outbox)

    async def render_alert(self, item: OutboxItem) -> RenderedAlert | None:
        """Render a crisis alert: link only, indicator types, level; urgent pings the moderator role."""
        alert = await self.crisis.get(item.guild_id, item.ref_id)
        if alert is None:
            return None
        config = await self.bot.guild_configs.get(item.guild_id)
        content: str | None = None
        mentions = discord.AllowedMentions.none()
        if alert.level == "urgent" and config.mod_role_id is not None and item.operation == "send":
            content = moderation_texts().get("crisis_alert.ping", role=f"<@&{config.mod_role_id}>")
            mentions = discord.AllowedMentions(
                everyone=False, users=False, roles=[discord.Object(config.mod_role_id)]
            )
        return RenderedAlert(
            channel_id=config.mod_channel_id,
            marker=moderation_texts().get("crisis_alert.footer", alert_id=alert.id),
            embed=crisis_embed(alert),
            content=content,
            view=crisis_view(alert),
            allowed_mentions=mentions,
        )

    async def acknowledge(self, interaction: discord.Interaction[Any], alert_id: int) -> None:
        """Record which moderator is on it and show it on the alert (moderators only, every time)."""
        texts = moderation_texts()
        if interaction.guild is None:
            await send_private(interaction, texts.get("replies.moderator_refusal"))
            return
        config = await self.bot.guild_configs.get(interaction.guild.id)
        if not is_moderator(interaction, config.mod_role_id):
            await send_private(interaction, texts.get("replies.moderator_refusal"))
            return
        existing = await self.crisis.get(interaction.guild.id, alert_id)
        if existing is None:
            await send_private(interaction, texts.get("replies.crisis_not_here"))
            return
        if existing.status == "acknowledged" and existing.acknowledged_by is not None:
            await send_private(
                interaction,
                texts.get(
                    "replies.already_acknowledged", actor=member_ref(existing.acknowledged_by, with_id=False)
                ),
            )
            return
        alert = await self.crisis.acknowledge(interaction.guild.id, alert_id, actor_id=interaction.user.id)
        assert alert is not None
        log.info("crisis alert %s acknowledged by %s", alert_id, interaction.user.id)
        await interaction.response.edit_message(embed=crisis_embed(alert), view=crisis_view(alert))

    # ---------------------------------------------------------------- /heard helplines

    @heard.command(name="helplines", description="The helplines Heard offers members in a private check-in")
    @app_commands.describe(action="Show the list, edit it, or go back to the defaults")
    @app_commands.choices(
        action=[
            app_commands.Choice(name="Show", value="show"),
            app_commands.Choice(name="Edit", value="edit"),
            app_commands.Choice(name="Reset to defaults", value="reset"),
        ]
    )
    @admin_only
    async def helplines_command(self, interaction: discord.Interaction[Any], action: str = "show") -> None:
        """Show, edit (in a form) or reset the guild's helplines."""
        assert interaction.guild is not None
        texts = moderation_texts()
        if action == "edit":
            await interaction.response.send_modal(
                HelplinesModal(self, await self.helplines_for(interaction.guild.id))
            )
            return
        if action == "reset":
            await self.crisis.set_helplines(interaction.guild.id, [])
            lines = await self.helplines_for(interaction.guild.id)
            await send_private(interaction, texts.get("replies.helplines_reset") + "\n" + _bullets(lines))
            return
        custom = await self.crisis.helplines(interaction.guild.id)
        lines = await self.helplines_for(interaction.guild.id)
        heading = (
            "This server's helplines:"
            if custom
            else "The default helplines (choose **edit** to change them):"
        )
        await send_private(interaction, heading + "\n" + _bullets(lines))

    async def save_helplines(self, interaction: discord.Interaction[Any], text: str) -> None:
        """Validate and store a submitted helpline list (admins only, checked again here)."""
        texts = moderation_texts()
        if interaction.guild is None:
            await send_private(interaction, "This only works inside a server.")
            return
        from bot.checks import is_admin

        if not is_admin(interaction):
            await send_private(
                interaction,
                "Only people with the Manage Server permission can change helplines; nothing was changed.",
            )
            return
        lines = clean_helplines(text)
        if lines is None:
            await send_private(
                interaction,
                texts.get("replies.helplines_too_long", limit=HELPLINE_LIMIT, count=HELPLINE_COUNT),
            )
            return
        if not lines:
            await send_private(interaction, texts.get("replies.helplines_empty"))
            return
        await self.crisis.set_helplines(interaction.guild.id, lines)
        await send_private(interaction, texts.get("replies.helplines_saved") + "\n" + _bullets(lines))

    async def describe_guild(self, guild_id: int) -> list[tuple[str, str]]:
        """Return the crisis section of ``/heard status``."""
        custom = await self.crisis.helplines(guild_id)
        lines = await self.helplines_for(guild_id)
        return [("Crisis helplines", ("Custom" if custom else "Defaults") + ":\n" + _bullets(lines))]


def crisis_embed(alert: CrisisAlert) -> discord.Embed:
    """Return the crisis alert embed: member, link (never text), level, indicator types, who is on it."""
    texts = moderation_texts()
    lines = [texts.get("crisis_alert.who", member=member_ref(alert.author_id))]
    if alert.in_dm:
        lines.append(texts.get("crisis_alert.where_dm"))
    else:
        lines.append(
            texts.get(
                "crisis_alert.where",
                link=jump_link(alert.guild_id, alert.channel_id, alert.message_id),
                channel_id=alert.channel_id,
            )
        )
    lines.append(texts.get("crisis_alert.level", level=alert.level))
    if alert.occurrences > 1 and not alert.in_dm:
        lines.append(
            texts.get(
                "crisis_alert.repeats",
                count=alert.occurrences,
                link=jump_link(alert.guild_id, alert.latest_channel_id, alert.latest_message_id),
            )
        )
    elif alert.occurrences > 1:
        lines.append(f"**Seen:** {alert.occurrences} times")
    if alert.status == "acknowledged" and alert.acknowledged_by is not None:
        lines.append(
            texts.get(
                "crisis_alert.acknowledged",
                actor=member_ref(alert.acknowledged_by, with_id=False),
                unix=unix_time(alert.acknowledged_at),
            )
        )
    embed = discord.Embed(
        title=texts.get(
            "crisis_alert.title_urgent" if alert.level == "urgent" else "crisis_alert.title_concern"
        ),
        description="\n".join(lines),
        colour=discord.Colour.red() if alert.level == "urgent" else discord.Colour.gold(),
    )
    embed.add_field(
        name=texts.get("crisis_alert.indicators_heading"),
        value="\n".join(f"• {texts.label('indicators', code)}" for code in alert.indicators) or "—",
        inline=False,
    )
    embed.add_field(
        name=texts.get("crisis_alert.checkin_heading"),
        value=texts.label("checkin_results", alert.checkin_result or "pending"),
        inline=False,
    )
    embed.add_field(name="What to do", value=texts.get("crisis_alert.guidance"), inline=False)
    embed.set_footer(text=texts.get("crisis_alert.footer", alert_id=alert.id))
    return embed


def crisis_view(alert: CrisisAlert) -> discord.ui.View:
    """Return the "I'm on it" button (disabled once someone took it)."""
    view = discord.ui.View(timeout=None)
    view.add_item(AcknowledgeButton(alert.id, disabled=alert.status == "acknowledged"))
    return view


def _bullets(lines: list[str]) -> str:
    """Return lines as a bulleted list."""
    return "\n".join(f"• {line}" for line in lines)


async def setup(bot: HeardBot) -> None:
    """Load the crisis cog."""
    await bot.add_cog(Crisis(bot))

"""Trust: ``/privacy``, ``/forget-me``, ``/heard about``, ``/heard export``, retention, and leaving a guild.

What is stored where, and what happens to it, lives in ``bot/storage/member_data.toml`` (executed by
``bot.storage.privacy``); the words live in ``_privacy_texts.toml``. This cog only connects Discord to them:
it reads the guild's real settings to explain them, runs the retention clean-up at start-up and daily,
and schedules (or cancels) the deletion of a guild's data when Heard is removed (or added back).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import re
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.checks import admin_only, own_permissions
from bot.replies import answer_failures, send_private
from bot.storage.flags import EXCERPT_LIMIT, ModerationSettingsRepository
from bot.storage.nudges import NudgeRepository
from bot.storage.privacy import ALERTS_REFRESHED, PrivacyRepository, utc_now
from bot.tree import heard_group
from cogs._texts import TomlTexts

if TYPE_CHECKING:
    from bot.bot import HeardBot

log = logging.getLogger(__name__)

TEXTS_FILE: Final = Path(__file__).with_name("_privacy_texts.toml")
MAINTENANCE_EVENT: Final = "heard_privacy_maintenance"
REMOVAL_SCHEDULED_EVENT: Final = "heard_guild_removal_scheduled"
REMOVAL_CANCELLED_EVENT: Final = "heard_guild_removal_cancelled"
MAINTENANCE_INTERVAL_HOURS: Final = 24
MESSAGE_LIMIT: Final = 2000
FIELD_LIMIT: Final = 1024
CHANNEL_LIST_LIMIT: Final = 600
NO_MENTIONS: Final = discord.AllowedMentions.none()
FORGET_CHOICES: Final = ("delete", "keep", "cancel")


class PrivacyTexts(TomlTexts):
    """The privacy sentences from ``_privacy_texts.toml``, looked up by dotted key."""

    def phrase(self, table: str, amount: int) -> str | None:
        """Return "3 nudge records" for a table named in ``[forget.phrases]``, or None if it isn't."""
        forms = self._node("forget.phrases").get(table)
        if forms is None:
            return None
        return f"{amount} {forms[0] if amount == 1 else forms[1]}"


@cache
def privacy_texts() -> PrivacyTexts:
    """Return the privacy texts, read once from the TOML file beside this module."""
    return PrivacyTexts.load(TEXTS_FILE)


class ForgetButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"heard:forget:(?P<user_id>\d+):(?P<choice>delete|keep|cancel)",
):
    """A ``/forget-me`` confirmation button; only the member who asked can press it (checked every time)."""

    def __init__(
        self, user_id: int, choice: str, label: str = "", style: discord.ButtonStyle | None = None
    ) -> None:
        """Build the button for ``user_id`` and one of the choices delete / keep / cancel."""
        super().__init__(
            discord.ui.Button(
                label=label or choice,
                style=style or discord.ButtonStyle.secondary,
                custom_id=f"heard:forget:{user_id}:{choice}",
            )
        )
        self.user_id = user_id
        self.choice = choice

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ForgetButton:
        """Rebuild the button from its custom_id when it is clicked."""
        return cls(int(match["user_id"]), match["choice"])

    @answer_failures
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Hand the click to the privacy cog."""
        cog = interaction.client.get_cog(Privacy.__cog_name__)
        if not isinstance(cog, Privacy):
            await send_private(interaction, privacy_texts().get("forget.failed"))
            return
        await cog.forget_choice(interaction, self.user_id, self.choice)


def forget_view(user_id: int, *, opted_out: bool) -> discord.ui.View:
    """Return the confirmation buttons: keep-or-delete the opt-out when the member has one."""
    texts = privacy_texts()
    view = discord.ui.View(timeout=None)
    if opted_out:
        view.add_item(
            ForgetButton(user_id, "keep", texts.get("forget.button_keep"), discord.ButtonStyle.danger)
        )
        view.add_item(
            ForgetButton(user_id, "delete", texts.get("forget.button_delete_all"), discord.ButtonStyle.danger)
        )
    else:
        view.add_item(
            ForgetButton(user_id, "delete", texts.get("forget.button_delete"), discord.ButtonStyle.danger)
        )
    view.add_item(ForgetButton(user_id, "cancel", texts.get("forget.button_cancel")))
    return view


class Privacy(commands.Cog):
    """Explains, limits and deletes what Heard keeps: the member-facing side of the privacy registry."""

    heard = heard_group()

    def __init__(self, bot: HeardBot) -> None:
        """Keep the bot and the repositories this cog reads."""
        self.bot = bot
        self.privacy = PrivacyRepository.from_settings(bot.db, bot.settings)
        self.nudges = NudgeRepository(bot.db)
        self.moderation_settings = ModerationSettingsRepository(bot.db)
        self.grace_days = bot.settings.guild_data_grace_days
        self.maintenance_runs = 0
        self.first_maintenance_done = asyncio.Event()
        self._maintenance_lock = asyncio.Lock()

    async def cog_load(self) -> None:
        """Make deleted content unrecoverable, re-enable old confirmation buttons, start the daily task."""
        await self.privacy.prepare()
        self.bot.add_dynamic_items(ForgetButton)
        self.daily_maintenance.start()

    async def cog_unload(self) -> None:
        """Stop the daily task (waiting for a run in progress) and the buttons."""
        self.daily_maintenance.cancel()
        task = self.daily_maintenance.get_task()
        if task is not None and task is not asyncio.current_task():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.bot.remove_dynamic_items(ForgetButton)

    # ----- /privacy -------------------------------------------------------------------------------

    @app_commands.command(name="privacy", description="What Heard reads and stores here, and how to opt out")
    async def privacy_command(self, interaction: discord.Interaction[Any]) -> None:
        """Explain privately, from this server's real settings, what Heard reads, keeps and for how long."""
        opted_out = await self.nudges.is_opted_out(interaction.user.id)
        if interaction.guild is None:
            texts = privacy_texts()
            choice = texts.get("privacy.nudges_off" if opted_out else "privacy.nudges_on")
            await send_private(interaction, f"{texts.get('privacy.dm_intro')}\n{choice}")
            return
        embed = await self.privacy_embed(interaction.guild, opted_out=opted_out)
        await send_private(interaction, embed=embed)

    async def privacy_embed(self, guild: discord.Guild, *, opted_out: bool) -> discord.Embed:
        """Build the ``/privacy`` embed for ``guild`` from its stored configuration."""
        texts = privacy_texts()
        config = await self.bot.guild_configs.get(guild.id)
        moderation = await self.moderation_settings.get(guild.id)
        excerpts = "on" if moderation.excerpts_enabled else "off"
        channels = _channel_list(config.watched)
        embed = discord.Embed(title=texts.get("privacy.title"), colour=discord.Colour.teal())
        reads = (
            texts.get("privacy.reads_watched", channels=channels)
            if channels
            else texts.get("privacy.reads_none")
        )
        stores = (
            texts.get("privacy.stores_base")
            + " "
            + texts.get(f"privacy.stores_excerpts_{excerpts}", limit=EXCERPT_LIMIT)
        )
        copy = texts.get(f"privacy.alerts_copy_excerpts_{excerpts}")
        if config.mod_channel_id is None:
            alerts = texts.get("privacy.alerts_none")
        elif config.mod_role_id is not None:
            alerts = texts.get(
                "privacy.alerts_channel_role",
                channel=f"<#{config.mod_channel_id}>",
                role=f"<@&{config.mod_role_id}>",
                copy=copy,
            )
        else:
            alerts = texts.get("privacy.alerts_channel", channel=f"<#{config.mod_channel_id}>", copy=copy)
        choices = texts.get("privacy.nudges_off" if opted_out else "privacy.nudges_on")
        fields = [
            ("privacy.reads_name", reads),
            ("privacy.stores_name", stores),
            ("privacy.never_name", texts.get(f"privacy.never_excerpts_{excerpts}")),
            (
                "privacy.how_long_name",
                texts.get(
                    "privacy.how_long",
                    excerpt_days=self.privacy.retention_days("excerpts"),
                    nudge_days=self.privacy.retention_days("nudges"),
                    grace_days=self.grace_days,
                ),
            ),
            ("privacy.alerts_name", alerts),
            ("privacy.choices_name", f"{choices}\n{texts.get('privacy.choices_delete')}"),
        ]
        for name_key, value in fields:
            embed.add_field(name=texts.get(name_key), value=_clip(value, FIELD_LIMIT), inline=False)
        embed.set_footer(text=texts.get("privacy.footer"))
        return embed

    async def describe_guild(self, guild_id: int) -> list[tuple[str, str]]:
        """Add a Privacy section to ``/heard status``: retention periods and the last clean-up."""
        texts = privacy_texts()
        last = await self.privacy.last_retention_run()
        last_run = f"<t:{int(datetime.fromisoformat(last.ran_at).timestamp())}:R>" if last else None
        value = texts.get(
            "status.value",
            excerpt_days=self.privacy.retention_days("excerpts"),
            nudge_days=self.privacy.retention_days("nudges"),
            grace_days=self.grace_days,
            last_run=last_run or texts.get("status.never_run"),
        )
        return [(texts.get("status.name"), value)]

    # ----- /forget-me -----------------------------------------------------------------------------

    @app_commands.command(name="forget-me", description="Delete what Heard stored about you in this server")
    @app_commands.guild_only()
    async def forget_me_command(self, interaction: discord.Interaction[Any]) -> None:
        """Ask the member to confirm with a button only they can press."""
        texts = privacy_texts()
        if interaction.guild is None:
            await send_private(interaction, texts.get("forget.wrong_place"))
            return
        opted_out = await self.nudges.is_opted_out(interaction.user.id)
        prompt = texts.get("forget.prompt")
        if opted_out:
            prompt += "\n" + texts.get("forget.prompt_opted_out")
        await send_private(interaction, prompt, view=forget_view(interaction.user.id, opted_out=opted_out))

    async def forget_choice(self, interaction: discord.Interaction[Any], user_id: int, choice: str) -> None:
        """Carry out a confirmation click: only the member who asked; delete first, then say what was done."""
        texts = privacy_texts()
        if interaction.user.id != user_id:
            await send_private(interaction, texts.get("forget.not_yours"))
            return
        if choice not in FORGET_CHOICES:
            await send_private(interaction, texts.get("forget.failed"))
            return
        if choice == "cancel":
            await interaction.response.edit_message(content=texts.get("forget.cancelled"), view=None)
            return
        if interaction.guild_id is None:
            await send_private(interaction, texts.get("forget.wrong_place"))
            return
        keep = choice == "keep"
        was_opted_out = await self.nudges.is_opted_out(user_id)
        try:
            counts = await self.privacy.forget_member(interaction.guild_id, user_id, keep_opt_out=keep)
        except Exception:
            log.exception("forget-me failed in guild %s", interaction.guild_id)
            await interaction.response.edit_message(content=texts.get("forget.failed"), view=None)
            return
        rows = sum(amount for table, amount in counts.items() if table != ALERTS_REFRESHED)
        log.info("forget-me done in guild %s: %d rows deleted or anonymised", interaction.guild_id, rows)
        self._wake_alert_outbox(counts)
        summary = self.forget_summary(counts, was_opted_out=was_opted_out, kept_opt_out=keep)
        await interaction.response.edit_message(content=summary, view=None)

    def forget_summary(self, counts: Mapping[str, int], *, was_opted_out: bool, kept_opt_out: bool) -> str:
        """Return the member-facing sentence listing what ``/forget-me`` deleted and anonymised."""
        texts = privacy_texts()
        deleted: list[str] = []
        anonymised: list[str] = []
        for table, amount in counts.items():
            phrase = texts.phrase(table, amount) if amount else None
            if phrase is None:
                continue
            what = self.privacy.describe_forget(table)
            (deleted if what == "deleted" else anonymised).append(phrase)
        if not deleted and not anonymised:
            answer = texts.get("forget.nothing_stored")
        else:
            parts = [texts.get("forget.done", deleted=", ".join(deleted))] if deleted else ["Done."]
            if anonymised:
                parts.append(texts.get("forget.done_anonymised", anonymised=", ".join(anonymised)))
            answer = " ".join(parts)
        if was_opted_out:
            answer += " " + texts.get("forget.opt_out_kept" if kept_opt_out else "forget.opt_out_deleted")
        return answer

    # ----- /heard about and /heard export (admins) --------------------------------------------------

    @heard.command(name="about", description="Post a plain-language note for members about what Heard does")
    @app_commands.describe(channel="Where to post the announcement (members should be able to read it)")
    @admin_only
    async def about_command(
        self, interaction: discord.Interaction[Any], channel: discord.TextChannel
    ) -> None:
        """Post the announcement in ``channel`` and tell the admin where it is."""
        texts = privacy_texts()
        assert interaction.guild is not None
        permissions = own_permissions(channel)  # None if unknown: try, and handle Forbidden below
        if permissions is not None and not (permissions.view_channel and permissions.send_messages):
            await send_private(interaction, texts.get("about.cannot_post", channel=channel.mention))
            return
        content = await self.announcement(interaction.guild.id)
        try:
            message = await channel.send(content, allowed_mentions=NO_MENTIONS)
        except discord.Forbidden:
            await send_private(interaction, texts.get("about.cannot_post", channel=channel.mention))
            return
        except discord.HTTPException as error:
            log.warning("announcement failed in guild %s (status %s)", interaction.guild.id, error.status)
            await send_private(interaction, texts.get("about.post_failed"))
            return
        await send_private(
            interaction, texts.get("about.posted", channel=channel.mention, link=message.jump_url)
        )

    async def announcement(self, guild_id: int) -> str:
        """Return the plain-language announcement for members, from this server's actual settings."""
        texts = privacy_texts()
        config = await self.bot.guild_configs.get(guild_id)
        nudge_settings = await self.nudges.settings(guild_id)
        moderation = await self.moderation_settings.get(guild_id)
        days = self.privacy.retention_days("excerpts")
        channels = _channel_list(config.watched)
        clause = texts.get("about.excerpt_clause", excerpt_days=days) if moderation.excerpts_enabled else ""
        lines = [
            texts.get("about.heading"),
            texts.get("about.intro"),
            texts.get("about.does", channels=channels) if channels else texts.get("about.does_no_channels"),
            texts.get(
                "about.nudges_in_channel" if nudge_settings.dm_fallback == "in_channel" else "about.nudges_dm"
            ),
            texts.get("about.alerts" if config.mod_channel_id else "about.alerts_not_set_up"),
            texts.get("about.data", excerpt_clause=clause, excerpt_days=days),
        ]
        return "\n".join(lines)[:MESSAGE_LIMIT]

    @heard.command(name="export", description="Download this server's Heard configuration and flag audit")
    @admin_only
    async def export_command(self, interaction: discord.Interaction[Any]) -> None:
        """Send the admin a JSON file of the configuration and flag audit (never message text)."""
        texts = privacy_texts()
        assert interaction.guild is not None
        try:
            data = await self.privacy.export_guild(interaction.guild.id)
        except Exception:
            log.exception("export failed in guild %s", interaction.guild.id)
            await send_private(interaction, texts.get("export.failed"))
            return
        payload = json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")
        file = discord.File(io.BytesIO(payload), filename=f"heard-export-{interaction.guild.id}.json")
        await interaction.response.send_message(texts.get("export.ready"), file=file, ephemeral=True)

    def _wake_alert_outbox(self, counts: Mapping[str, int]) -> None:
        """Have the moderation cog's alert outbox re-render alerts whose rows changed (if it is loaded)."""
        if not counts.get(ALERTS_REFRESHED):
            return
        dispatcher = getattr(self.bot.get_cog("Moderation"), "dispatcher", None)
        wake = getattr(dispatcher, "wake", None)
        if callable(wake):
            wake()

    # ----- leaving and re-joining a guild -------------------------------------------------------------

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Heard was removed: schedule the guild's data for deletion after the grace period."""
        pending = await self.privacy.schedule_guild_deletion(guild.id, grace_days=self.grace_days)
        log.info("removed from guild %s: its data will be deleted after %s", guild.id, pending.delete_after)
        if self.grace_days == 0:  # no grace period: delete now rather than at the next daily run
            await self.run_maintenance()
        self.bot.dispatch(REMOVAL_SCHEDULED_EVENT, guild.id)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        """Heard was added (back): cancel a scheduled deletion of the guild's data."""
        if await self.privacy.cancel_guild_deletion(guild.id):
            log.info("added back to guild %s: its data is kept", guild.id)
        self.bot.dispatch(REMOVAL_CANCELLED_EVENT, guild.id)

    async def reconcile_guilds(self, now: datetime | None = None) -> None:
        """After connecting: keep data of guilds Heard is in; schedule guilds it left while offline."""
        present = {guild.id for guild in self.bot.guilds}
        for pending in await self.privacy.pending_guild_deletions():
            if pending.guild_id in present:
                await self.privacy.cancel_guild_deletion(pending.guild_id)
        for guild_id in await self.privacy.guild_ids_with_data() - present:
            await self.privacy.schedule_guild_deletion(guild_id, grace_days=self.grace_days, now=now)

    # ----- retention ----------------------------------------------------------------------------------

    async def run_maintenance(self, now: datetime | None = None) -> dict[str, int]:
        """Purge expired rows and delete the data of guilds whose grace period ended; record the run.

        Idempotent; runs are serialized. Dispatches ``heard_privacy_maintenance`` with the counts.
        """
        moment = now or utc_now()
        async with self._maintenance_lock:
            counts = await self.privacy.purge_expired(moment)
            deleted_guilds = await self.privacy.delete_due_guilds(moment)
            for guild_id in deleted_guilds:
                await self.bot.guild_configs.forget_guild(guild_id)  # also clears its cache
            rows = sum(amount for table, amount in counts.items() if table != ALERTS_REFRESHED)
            await self.privacy.record_retention_run(
                moment, rows_purged=rows, guilds_deleted=len(deleted_guilds)
            )
            self.maintenance_runs += 1
        self._wake_alert_outbox(counts)
        counts["guilds_deleted"] = len(deleted_guilds)
        log.info("retention run: %d rows purged, %d guilds deleted", rows, len(deleted_guilds))
        self.bot.dispatch(MAINTENANCE_EVENT, dict(counts))
        return counts

    @tasks.loop(hours=MAINTENANCE_INTERVAL_HOURS)
    async def daily_maintenance(self) -> None:
        """At start-up and then daily: reconcile guild membership, then run the retention clean-up."""
        try:
            await self.reconcile_guilds()
            await self.run_maintenance()
        except Exception:
            log.exception(
                "privacy maintenance failed; it will run again in %d hours", MAINTENANCE_INTERVAL_HOURS
            )
        finally:
            self.first_maintenance_done.set()

    @daily_maintenance.before_loop
    async def _wait_until_connected(self) -> None:
        """Start only once the guild list is known (so guilds present are never scheduled for deletion)."""
        await self.bot.wait_until_ready()


def _channel_list(watched: Any) -> str:
    """Return the watched channels as mentions (forums marked), or "" when there are none.

    A long list is summarised ("the 50 channels chosen for support") so it fits Discord's limits.
    """
    mentions = ", ".join(
        f"<#{channel.channel_id}>" + (" (forum)" if channel.kind == "forum" else "") for channel in watched
    )
    if len(mentions) > CHANNEL_LIST_LIMIT:
        return privacy_texts().get("channels_summary", count=len(watched))
    return mentions


def _clip(text: str, limit: int) -> str:
    """Shorten ``text`` to ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def setup(bot: HeardBot) -> None:
    """Load the privacy cog."""
    await bot.add_cog(Privacy(bot))

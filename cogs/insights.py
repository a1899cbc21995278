"""Listening-health insights: daily counters from ``heard_message``, and ``/heard report weeks:``.

The counters are aggregate (per day and channel, never text or member ids). ``/heard report`` is for
moderators (Manage Messages, Manage Server or the configured moderator role, checked on every use) and
answers privately with the listening-health chart as a PNG and a one-paragraph text version of it.
"""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import require_moderator
from bot.insights.chart import render_listening_health
from bot.replies import send_private
from bot.storage.daily_stats import DailyStatsRepository, ReplyCounts, utc_day
from bot.support import SupportMessage

if TYPE_CHECKING:
    from bot.bot import HeardBot

log = logging.getLogger(__name__)

COUNTED_EVENT = "heard_insights_counted"
"""Dispatched with the message id once a reply has been added to the daily counters (tests wait on it)."""
MIN_WEEKS, MAX_WEEKS, DEFAULT_WEEKS = 1, 52, 4
CHART_FILENAME = "listening-health.png"
SEND_ATTEMPTS = 3


class WeeksOption(app_commands.Transformer):
    """The ``weeks`` option: Discord shows 1–52; out-of-range values get a friendly answer, not an error."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        """An integer option."""
        return discord.AppCommandOptionType.integer

    @property
    def min_value(self) -> int:
        """The smallest number of weeks Discord lets moderators pick."""
        return MIN_WEEKS

    @property
    def max_value(self) -> int:
        """The largest number of weeks Discord lets moderators pick."""
        return MAX_WEEKS

    async def transform(self, interaction: discord.Interaction[Any], value: Any) -> int:
        """Return the number as given; the command checks the range and explains."""
        return int(value)


class Insights(commands.Cog):
    """Counts replies and listening moves per day, and draws the listening-health report."""

    heard = app_commands.Group(
        name="heard",
        description="Heard setup and moderation",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: HeardBot) -> None:
        """Keep the bot and open the daily-stats repository on its database."""
        self.bot = bot
        self.daily_stats = DailyStatsRepository(bot.db)

    @commands.Cog.listener("on_heard_message")
    async def count_reply(self, event: SupportMessage) -> None:
        """Add a reply to someone else's post to today's counters (guild messages only; counts only)."""
        if event.guild_id is None or not event.is_reply_to_other:
            return
        moves = event.analysis.moves
        counts = ReplyCounts(
            with_move=bool(moves),
            reflections=sum(1 for move in moves if move.move == "reflection"),
            open_questions=sum(1 for move in moves if move.move == "open_question"),
        )
        channel = event.message.channel
        parent_id = getattr(channel, "parent_id", None) if isinstance(channel, discord.Thread) else None
        try:
            await self.daily_stats.record_reply(
                event.guild_id, parent_id or channel.id, utc_day(event.message.created_at), counts
            )
        except Exception:
            log.exception("could not count message %s in the daily stats", event.message.id)
            return
        self.bot.dispatch(COUNTED_EVENT, event.message.id)

    @heard.command(name="report", description="Moderators: a chart of how listening went in recent weeks")
    @app_commands.describe(weeks="How many weeks to show (1–52, default 4)")
    async def report_command(
        self,
        interaction: discord.Interaction[Any],
        weeks: app_commands.Transform[int, WeeksOption] = DEFAULT_WEEKS,
    ) -> None:
        """Answer privately with the listening-health chart for the last ``weeks`` weeks."""
        guild = interaction.guild
        if guild is None:
            require_moderator(interaction, None)  # raises the "only inside a server" sentence
            return
        config = await self.bot.guild_configs.get(guild.id)
        require_moderator(interaction, config.mod_role_id)
        if not MIN_WEEKS <= weeks <= MAX_WEEKS:
            await send_private(
                interaction, f"Please pick between {MIN_WEEKS} and {MAX_WEEKS} weeks; nothing was changed."
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        today = datetime.now(UTC).date()
        days = await self.daily_stats.daily_counts(
            guild.id, first_day=today - timedelta(days=7 * weeks - 1), last_day=today
        )
        chart = await asyncio.to_thread(
            render_listening_health, days, weeks=weeks, today=today, title=f"Listening health · {guild.name}"
        )
        summary = chart.describe()
        if chart.totals.replies_seen == 0 and chart.totals.flags == 0:
            text = (
                f"No replies counted in the last {weeks} week{'s' if weeks != 1 else ''} yet. "
                "The chart fills in as Heard listens in your watched channels."
            )
        else:
            text = f"Here's how listening went: {summary}"
        text += "\nCommunity totals only; no one is singled out."
        await self._send_chart(interaction, text, chart.png, summary)

    async def _send_chart(
        self, interaction: discord.Interaction[Any], text: str, png: bytes, alt: str
    ) -> None:
        """Send the chart as a private follow-up, retrying a failed upload before reporting it."""
        for attempt in range(1, SEND_ATTEMPTS + 1):
            file = discord.File(io.BytesIO(png), filename=CHART_FILENAME, description=alt[:1024])
            try:
                await interaction.followup.send(content=text, file=file, ephemeral=True)
                return
            except discord.HTTPException as error:
                log.warning(
                    "sending the report chart failed (attempt %d, status %s, code %s)",
                    attempt,
                    error.status,
                    error.code,
                )
                if error.status < 500 and error.status != 429:
                    break
                await asyncio.sleep(attempt)
        await send_private(
            interaction, "Sorry, I couldn't upload the chart just now; please try again shortly."
        )

    async def describe_guild(self, guild_id: int) -> list[tuple[str, str]]:
        """Add a 'Listening health' line to ``/heard status``: the last seven days in one sentence."""
        today = datetime.now(UTC).date()
        days = await self.daily_stats.daily_counts(
            guild_id, first_day=today - timedelta(days=6), last_day=today
        )
        replies = sum(day.replies_seen for day in days)
        if not replies:
            return [
                (
                    "Listening health",
                    "No replies counted in the last 7 days. `/heard report` shows the chart.",
                )
            ]
        with_move = sum(day.replies_with_move for day in days)
        return [
            (
                "Listening health",
                f"Last 7 days: {replies:,} replies, {with_move / replies:.0%} with a listening move. "
                "`/heard report` shows the chart.",
            )
        ]


async def setup(bot: HeardBot) -> None:
    """Load the insights cog."""
    await bot.add_cog(Insights(bot))

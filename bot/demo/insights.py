"""Demo step: a moderator asks for the listening-health report and gets a private chart."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.demo import DemoContext

ORDER = 50
TITLE = "Insights: the listening-health report"


async def run(ctx: DemoContext) -> None:
    """Run ``/heard report weeks:1`` as the moderator and show the private answer with the chart."""
    scene = ctx.scene
    ctx.show(
        f"{scene.moderator.name} asks how listening went this week. The answer is private: a chart of "
        "community totals (flags, nudges, reflections per question) and the same in one sentence."
    )
    # /heard is shown by default to Manage Server; moderators are let in by Heard's own check.
    await ctx.slash(scene.moderator, "heard report", force=True, weeks=1)

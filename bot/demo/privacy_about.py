"""Demo step: the admin posts Heard's plain-language announcement for members with ``/heard about``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.demo import DemoContext

ORDER = 15
TITLE = "The admin tells members what Heard does"


async def run(ctx: DemoContext) -> None:
    """Post the announcement in #general and print it."""
    scene = ctx.scene
    ctx.show(
        f"{scene.admin.name} posts a short note in #{scene.general.name} so members know what Heard does."
    )
    await ctx.slash(scene.admin, "heard about", channel=scene.general)
    announcement = await ctx.sandbox.wait_for_message(
        lambda message: message.channel_id == scene.general.id, timeout=ctx.timeout
    )
    ctx.show_message(announcement, label=f"in #{scene.general.name}, visible to everyone")

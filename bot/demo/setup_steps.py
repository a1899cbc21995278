"""Demo step: an admin sets Heard up with ``/heard setup``, ``/heard watch`` and ``/heard status``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.demo import DemoContext

ORDER = 10
TITLE = "An admin sets Heard up"


async def run(ctx: DemoContext) -> None:
    """Choose the moderator channel and role, watch the support channel and forum, then check the status."""
    scene = ctx.scene
    ctx.show(f"{scene.admin.name} (who has Manage Server) tells Heard where moderators get alerts.")
    await ctx.slash(scene.admin, "heard setup", mod_channel=scene.mod_alerts, role=scene.mod_role)
    ctx.show("Then picks the channels Heard listens in: a text channel and a forum.")
    await ctx.slash(scene.admin, "heard watch", channel=scene.support)
    await ctx.slash(scene.admin, "heard watch", channel=scene.vent)
    ctx.show(
        "Discord hides /heard from members without Manage Server. Even if a server loosened that, Heard "
        f"checks again: {scene.alex.name}, an ordinary member, tries it anyway."
    )
    await ctx.slash(scene.alex, "heard watch", force=True, channel=scene.general)
    ctx.show("The admin checks the result.")
    await ctx.slash(scene.admin, "heard status")

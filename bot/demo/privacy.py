"""Demo step: a member asks what Heard keeps (``/privacy``) and deletes it (``/forget-me``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.demo import DemoContext

ORDER = 40
TITLE = "A member checks what Heard keeps, and deletes it"


async def run(ctx: DemoContext) -> None:
    """Run /privacy, then /forget-me and press the confirmation button."""
    scene = ctx.scene
    member = scene.sam
    ctx.show(f"{member.name} wonders what Heard keeps about them and asks, privately.")
    await ctx.slash(member, "privacy")
    ctx.show(
        f"{member.name} would rather Heard forget them here and confirms with a button only they can press."
    )
    ask = await ctx.slash(member, "forget-me")
    delete_id = next(custom_id for custom_id in ask.message.custom_ids() if custom_id.endswith(":delete"))
    click = await ctx.sandbox.click(member, ask.message, delete_id)
    ctx.transcript.heard_answer(await click.response(timeout=ctx.timeout), member)

"""Demo step: a member replies with unsolicited advice and gets a private nudge; /reflect and /coach."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.demo import DemoContext

ORDER = 20
TITLE = "Listening help for members: a private nudge, /reflect and /coach"

POST = (
    "i've been so overwhelmed with work and school lately. i barely sleep and i feel like i'm failing "
    "at everything"
)
ADVICE_REPLY = "you should just quit your job. have you tried making a schedule?"
DRAFT = "that sounds exhausting, carrying work and school at once. what's been the hardest part?"


async def run(ctx: DemoContext) -> None:
    """Play the member features: the DM nudge after an advice-first reply, then /reflect and /coach."""
    scene = ctx.scene
    ctx.show(f"{scene.alex.name} shares something hard in #{scene.support.name}.")
    post = await ctx.member_says(scene.alex, scene.support, POST)
    ctx.show(f"{scene.sam.name} means well and replies with advice straight away.")
    await ctx.member_says(scene.sam, scene.support, ADVICE_REPLY, reply_to=post)
    ctx.show(
        f"Heard sends {scene.sam.name} a private tip by DM (nobody else sees it, and nothing is posted)."
    )
    await ctx.wait_for_dm(scene.sam)
    ctx.show(f"{scene.jo.name} wants to answer well and asks Heard privately for reflection ideas.")
    await ctx.slash(scene.jo, "reflect", text=POST)
    ctx.show(f"{scene.jo.name} checks a draft reply before sending it.")
    await ctx.slash(scene.jo, "coach", draft=DRAFT)
    decided = asyncio.create_task(
        ctx.bot.wait_for("nudge_decided", check=lambda decision: decision.member_id == scene.jo.id)
    )
    await ctx.member_says(scene.jo, scene.support, DRAFT, reply_to=post)
    async with asyncio.timeout(ctx.timeout):
        decision = await decided
    if decision.result == "nothing_to_nudge":
        ctx.show("A kind, listening reply like that gets nothing from Heard: no nudge, no noise.")
    else:
        ctx.show(f"(Heard's decision for that reply: {decision.result})")

"""Demo step: a hurtful reply is flagged to moderators, a moderator resolves it, and a crisis escalation."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.demo import DemoContext

ORDER = 30
TITLE = "Moderators: a flagged reply, a decision, and a crisis escalation"

POST = "I got laid off today and I feel like such a failure. I don't know how to tell my family."
HURTFUL_REPLY = "Honestly that's your own fault, you're so lazy and pathetic."
CRISIS_POST = "I can't do this anymore. Everyone would be better off without me. I'm going to end it tonight."


async def run(ctx: DemoContext) -> None:
    """Flag a judgmental reply, resolve it as the moderator, then show a crisis alert and the check-in."""
    scene = ctx.scene
    mod_channel = scene.mod_alerts.id
    ctx.show(f"{scene.jo.name} shares something hard in #support, and {scene.riley.name} answers harshly.")
    post = await ctx.member_says(scene.jo, scene.support, POST)
    await ctx.member_says(scene.riley, scene.support, HURTFUL_REPLY, reply_to=post)
    ctx.show("Heard leaves the reply alone and alerts the moderators, with review buttons.")
    alert = await ctx.wait_for_heard_message(
        lambda message: message.channel_id == mod_channel and "Heard flag #" in message.text(),
        label="in #mod-alerts, moderators only",
    )
    resolve = next(
        custom_id for custom_id in alert.custom_ids() if custom_id.startswith("heard:flag:resolve:")
    )

    ctx.show(f"{scene.alex.name}, who is not a moderator, presses Resolve: nothing changes.")
    refused = await ctx.sandbox.click(scene.alex, alert, resolve)
    ctx.transcript.heard_answer(await refused.response(timeout=ctx.timeout), scene.alex)

    ctx.show(f"{scene.moderator.name}, a moderator, talks with {scene.riley.name} and presses Resolve.")
    click = await ctx.sandbox.click(scene.moderator, alert, resolve)
    await click.response(timeout=ctx.timeout)
    ctx.transcript.heard_message(ctx.sandbox.world.message(alert.id), label="the same alert, edited")

    ctx.show(
        f"{scene.sam.name} writes something that sounds like a crisis. Heard never deletes it. It privately "
        "offers helplines, and posts a link-only alert (no copy of the text) that pings the moderator role."
    )
    await ctx.member_says(scene.sam, scene.support, CRISIS_POST)
    dm_channel = ctx.sandbox.world.dm_channel_for(scene.sam).id
    await ctx.wait_for_heard_message(
        lambda message: message.channel_id == dm_channel and "not a crisis service" in message.content,
        label=f"DM to {scene.sam.name}, private",
    )
    await ctx.wait_for_heard_message(
        lambda message: (
            message.channel_id == mod_channel
            and "Heard crisis alert #" in message.text()
            and "sent them a private message" in message.text()
        ),
        label="in #mod-alerts, moderators only",
    )

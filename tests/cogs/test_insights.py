"""``/heard report`` and the daily counters, through the sandbox with the real bot, engine and database."""

from __future__ import annotations

import asyncio
import struct
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.storage.database import Database
from cogs.insights import COUNTED_EVENT
from tests.conftest import configure_guild

TIMEOUT = 30.0
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def chart_file(message: Any) -> tuple[str, bytes]:
    """Return (filename, bytes) of the one PNG attached to a sandbox message."""
    [attached] = message.files
    return attached.filename, attached.data


async def run_report(sandbox: Any, user: Any, **options: Any) -> Any:
    """Run ``/heard report`` as ``user`` and return the final (edited) private answer."""
    scene = sandbox.scene
    ix = await sandbox.slash(user, scene.guild, "heard report", force=True, **options)
    first = await ix.response(timeout=TIMEOUT)
    assert first.ephemeral, "the report is private"
    if first.type == 5:  # deferred ("thinking"); the chart comes as the edited original
        return await ix.original(timeout=TIMEOUT)
    return first


async def test_report_for_a_moderator_is_private_with_a_png_chart(sandbox: Any, heard: Any) -> None:
    await configure_guild(sandbox)
    scene = sandbox.scene
    answer = await run_report(sandbox, scene.moderator, weeks=4)
    assert answer.ephemeral
    name, data = chart_file(answer)
    assert name == "listening-health.png"
    assert data.startswith(PNG_MAGIC)
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 800 and height >= 500
    assert "No replies counted in the last 4 weeks yet" in answer.content
    assert "no one is singled out" in answer.content


async def test_report_counts_replies_and_listening_moves(sandbox: Any, heard: Any, db_path: Any) -> None:
    await configure_guild(sandbox)
    scene = sandbox.scene
    post = await sandbox.member_says(scene.alex, scene.support, "I've been so stressed about my exams lately")
    counted = asyncio.ensure_future(heard.wait_for(COUNTED_EVENT, timeout=TIMEOUT))
    reply = await sandbox.member_says(
        scene.sam,
        scene.support,
        "It sounds like the exams have been weighing on you a lot. What's been the hardest part?",
        reply_to=post,
    )
    assert await counted == int(reply.id)

    database = await Database.open(db_path)
    try:
        rows = await database.fetch_all("SELECT * FROM daily_stat")
    finally:
        await database.close()
    assert len(rows) == 1
    row = rows[0]
    assert (row["guild_id"], row["channel_id"]) == (int(scene.guild.id), int(scene.support.id))
    assert row["day"] == datetime.now(UTC).date().isoformat()
    assert row["replies_seen"] == 1 and row["replies_with_move"] == 1
    assert row["reflections"] + row["open_questions"] >= 1

    answer = await run_report(sandbox, scene.admin, weeks=2)
    assert "Here's how listening went: 2 weeks" in answer.content
    assert "1 reply, 100% with a listening move" in answer.content
    assert chart_file(answer)[1].startswith(PNG_MAGIC)


async def test_report_refuses_members_who_are_not_moderators(sandbox: Any, heard: Any) -> None:
    await configure_guild(sandbox)
    scene = sandbox.scene
    ix = await sandbox.slash(scene.alex, scene.guild, "heard report", force=True)
    answer = await ix.response(timeout=TIMEOUT)
    assert answer.ephemeral
    assert answer.content == "Only this server's moderators can do that, so nothing was changed."
    assert not answer.attachments


async def test_weeks_outside_1_to_52_cannot_be_picked(sandbox: Any, heard: Any) -> None:
    from bot.sandbox import SandboxError

    scene = sandbox.scene
    with pytest.raises(SandboxError, match=r"outside \[1, 52\]"):
        await sandbox.slash(scene.admin, scene.guild, "heard report", weeks=60)


async def test_a_failed_chart_upload_is_retried(sandbox: Any, heard: Any) -> None:
    scene = sandbox.scene
    sandbox.faults.fail_next("POST", "/webhooks/{application_id}/{interaction_token}", status=500, count=1)
    answer = await run_report(sandbox, scene.admin)
    assert chart_file(answer)[1].startswith(PNG_MAGIC)


async def test_a_refused_chart_upload_is_reported_to_the_moderator(sandbox: Any, heard: Any) -> None:
    scene = sandbox.scene
    sandbox.faults.fail_next("POST", "/webhooks/{application_id}/{interaction_token}", status=400, count=1)
    answer = await run_report(sandbox, scene.admin)
    assert answer.ephemeral
    assert answer.content == "Sorry, I couldn't upload the chart just now; please try again shortly."
    assert not answer.files


async def test_status_shows_a_listening_health_line(sandbox: Any, heard: Any) -> None:
    await configure_guild(sandbox)
    scene = sandbox.scene
    ix = await sandbox.slash(scene.admin, scene.guild, "heard status")
    answer = await ix.response(timeout=TIMEOUT)
    fields = {field["name"]: field["value"] for embed in answer.embeds for field in embed.get("fields", [])}
    assert fields["Listening health"].startswith("No replies counted in the last 7 days.")


async def test_report_counts_the_flags_moderators_were_alerted_to(sandbox: Any, heard: Any) -> None:
    await configure_guild(sandbox)
    scene = sandbox.scene
    post = await sandbox.member_says(scene.alex, scene.support, "I cried all night after the breakup")
    await sandbox.member_says(scene.jo, scene.support, "you're so dramatic, it's pathetic", reply_to=post)
    # The flag row is committed before the alert is posted, so once the alert is there it is counted.
    await sandbox.wait_for_message(lambda m: m.channel_id == scene.mod_alerts.id, timeout=TIMEOUT)

    answer = await run_report(sandbox, scene.moderator, weeks=1)
    assert "1 flag (none decided yet)" in answer.content
    assert chart_file(answer)[1].startswith(PNG_MAGIC)

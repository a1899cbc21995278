"""Crisis escalation through the sandbox: link-only alerts, the urgent ping, the private check-in and its
rate limit, DMs to Heard, helplines, and the acknowledge button."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.bot import HeardBot
from tests.cogs.moderation_helpers import (
    CRISIS_CONCERN,
    CRISIS_URGENT,
    TIMEOUT,
    crisis_alerts,
    outbox_drained,
    require_engine_reads,
    wait_until,
)
from tests.conftest import configure_guild


@pytest.fixture(autouse=True)
def engine_reads_the_test_texts() -> None:
    """Fail clearly (not by timeout) if the engine stops reading the test texts as these tests need."""
    require_engine_reads(CRISIS_URGENT, crisis="urgent")
    require_engine_reads(CRISIS_CONCERN, crisis="concern")


def crisis_cog(bot: HeardBot) -> Any:
    """Return the loaded crisis cog."""
    cog = bot.get_cog("Crisis")
    assert cog is not None
    return cog


async def wait_for_crisis_alert(
    sandbox: Any, *, level_word: str | None = None, exclude: set[int] | None = None
) -> Any:
    """Wait for a crisis alert in the moderator channel."""
    channel_id = sandbox.scene.mod_alerts.id
    skip = exclude or set()
    return await sandbox.wait_for_message(
        lambda m: (
            m.channel_id == channel_id
            and "Heard crisis alert #" in m.text()
            and m.id not in skip
            and (level_word is None or level_word in m.text())
        ),
        timeout=TIMEOUT,
    )


async def wait_for_checkin(sandbox: Any, user: Any) -> Any:
    """Wait for the private check-in DM to ``user``."""
    dm_channel = sandbox.world.dm_channel_for(user).id
    return await sandbox.wait_for_message(
        lambda m: m.channel_id == dm_channel and "not a crisis service" in m.content, timeout=TIMEOUT
    )


def words_of(text: str) -> set[str]:
    """Return the distinctive words of a text (for 'no copy of the text' checks)."""
    return {word.strip(".,!?'").lower() for word in text.split() if len(word.strip(".,!?'")) >= 5}


async def test_urgent_post_pings_moderators_with_a_link_only(sandbox: Any, heard: HeardBot) -> None:
    require_engine_reads(CRISIS_URGENT, crisis="urgent")
    scene = sandbox.scene
    await configure_guild(sandbox)
    mark = sandbox.mark()
    message = await sandbox.member_says(scene.alex, scene.support, CRISIS_URGENT)

    alert = await wait_for_crisis_alert(sandbox)
    assert f"<@&{scene.mod_role.id}>" in alert.content
    call = await sandbox.wait_for_call(
        lambda c: c.method == "POST" and c.params.get("channel_id") == str(scene.mod_alerts.id),
        timeout=TIMEOUT,
    )
    mentions = call.json["allowed_mentions"]
    assert mentions["parse"] == [] and [str(role) for role in mentions["roles"]] == [str(scene.mod_role.id)]
    text = alert.text()
    assert f"https://discord.com/channels/{scene.guild.id}/{scene.support.id}/{message.id}" in text
    assert "urgent" in text.lower() and f"<@{scene.alex.id}>" in text
    whole_payload = json.dumps(alert.payload).lower()
    leaked = {word for word in words_of(CRISIS_URGENT) | {"kill"} if word in whole_payload}
    assert not leaked, f"the alert copies words of the message: {leaked}"
    assert not sandbox.world.message(message.id).deleted  # never deleted

    checkin = await wait_for_checkin(sandbox, scene.alex)
    await sandbox.wait_for_message(
        lambda m: m.id == alert.id and "sent them a private message" in m.text(), timeout=TIMEOUT, since=mark
    )
    for needed in (
        "software",
        "not a crisis service",
        "988",
        "741741",
        "116 123",
        "befrienders",
        "Moderators",
    ):
        assert needed.lower() in checkin.content.lower(), needed
    assert "kill" not in checkin.content.lower()
    # the member is told privately, never in the channel
    assert [m for m in sandbox.messages_in(scene.support) if m.author_id == sandbox.bot_user.id] == []


async def test_concern_alert_does_not_ping_and_repeats_update_it(sandbox: Any, heard: HeardBot) -> None:
    require_engine_reads(CRISIS_CONCERN, crisis="concern")
    scene = sandbox.scene
    await configure_guild(sandbox)
    mark = sandbox.mark()
    await sandbox.member_says(scene.alex, scene.support, CRISIS_CONCERN)
    alert = await wait_for_crisis_alert(sandbox)
    assert "<@&" not in alert.content
    await wait_for_checkin(sandbox, scene.alex)

    second = await sandbox.member_says(scene.alex, scene.support, CRISIS_CONCERN)
    await sandbox.wait_for_message(
        lambda m: m.id == alert.id and "2 times" in m.text(), timeout=TIMEOUT, since=mark
    )
    assert f"/{second.id})" in sandbox.world.message(alert.id).text()
    assert len(crisis_alerts(sandbox)) == 1

    # the check-in went out once in the window; the second message was recorded but not answered again
    await wait_until(lambda: _checkins(heard, scene, 2), what="both check-in decisions")
    dms = [m for m in sandbox.dms_to(scene.alex) if "not a crisis service" in m.content]
    assert len(dms) == 1


async def _checkins(bot: HeardBot, scene: Any, expected_alert_count: int) -> bool:
    """Return whether the crisis alert for alex was seen ``expected_alert_count`` times."""
    alert = await crisis_cog(bot).crisis.get(scene.guild.id, 1)
    return bool(alert is not None and alert.occurrences >= expected_alert_count)


async def test_checkin_window_zero_sends_every_time_and_urgent_breaks_through(
    sandbox: Any, heard: HeardBot
) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)
    await sandbox.member_says(scene.sam, scene.support, CRISIS_CONCERN)
    await wait_for_checkin(sandbox, scene.sam)
    # a rise to urgent within the window still gets a check-in, and a new, pinging alert
    await sandbox.member_says(scene.sam, scene.support, CRISIS_URGENT)
    await wait_for_crisis_alert(sandbox, level_word="Urgent")
    await wait_until(lambda: _dm_count(sandbox, scene.sam, 2), what="the second check-in")

    ix = await sandbox.slash(scene.admin, scene.guild, "heard alerts", crisis_message_minutes=0)
    assert "once per: **0 min**" in (await ix.response(timeout=TIMEOUT)).content
    await sandbox.member_says(scene.sam, scene.support, CRISIS_CONCERN)
    await wait_until(lambda: _dm_count(sandbox, scene.sam, 3), what="a third check-in with the window off")


async def _dm_count(sandbox: Any, user: Any, expected: int) -> bool:
    """Return whether ``user`` got at least ``expected`` check-in DMs."""
    return len([m for m in sandbox.dms_to(user) if "not a crisis service" in m.content]) >= expected


async def test_dm_to_heard_escalates_to_shared_guild_and_answers_in_dm(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)
    await sandbox.dm_bot(scene.jo, CRISIS_URGENT)
    alert = await wait_for_crisis_alert(sandbox)
    assert "direct message to Heard" in alert.text()
    assert "kill" not in json.dumps(alert.payload).lower()
    checkin = await wait_for_checkin(sandbox, scene.jo)
    assert "software" in checkin.content


async def test_closed_dms_are_recorded_and_nothing_is_posted_publicly(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    sandbox.world.set_dms_closed(scene.riley, True)
    await configure_guild(sandbox)
    mark = sandbox.mark()
    await sandbox.member_says(scene.riley, scene.support, CRISIS_CONCERN)
    await wait_for_crisis_alert(sandbox)

    async def recorded() -> bool:
        return await crisis_cog(heard).crisis.checkins(scene.guild.id, scene.riley.id) == [
            ("concern", "failed_dms_closed")
        ]

    await wait_until(recorded, what="the failed check-in to be recorded")
    assert [m for m in sandbox.messages_in(scene.support) if m.author_id == sandbox.bot_user.id] == []
    # the moderators are told the member has not seen any helplines
    await sandbox.wait_for_message(
        lambda m: m.channel_id == scene.mod_alerts.id and "DMs are closed" in m.text(),
        timeout=TIMEOUT,
        since=mark,
    )


async def test_admin_sets_helplines_and_members_see_them(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)
    ix = await sandbox.slash(scene.admin, scene.guild, "heard helplines", action="edit")
    modal = await ix.modal(timeout=TIMEOUT)
    assert "988" in json.dumps(modal.data)  # prefilled with the defaults
    submitted = await sandbox.submit_modal(
        scene.admin,
        ix,
        {"heard_helplines_lines": "Canada: call or text 9-8-8\n\n• Australia: Lifeline 13 11 14"},
    )
    saved = await submitted.response(timeout=TIMEOUT)
    assert saved.ephemeral and "Lifeline 13 11 14" in saved.content

    await sandbox.member_says(scene.alex, scene.support, CRISIS_CONCERN)
    checkin = await wait_for_checkin(sandbox, scene.alex)
    assert "Canada: call or text 9-8-8" in checkin.content and "741741" not in checkin.content

    ix = await sandbox.slash(scene.admin, scene.guild, "heard helplines", action="reset")
    assert "741741" in (await ix.response(timeout=TIMEOUT)).content
    ix = await sandbox.slash(scene.alex, scene.guild, "heard helplines", force=True, action="reset")
    refusal = await ix.response(timeout=TIMEOUT)
    assert refusal.ephemeral and "Manage Server" in refusal.content


async def test_acknowledge_button_checks_the_clicker(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)
    await sandbox.member_says(scene.alex, scene.support, CRISIS_CONCERN)
    alert = await wait_for_crisis_alert(sandbox)
    (custom_id,) = alert.custom_ids()

    refused = await (await sandbox.click(scene.sam, alert, custom_id)).response(timeout=TIMEOUT)
    assert refused.ephemeral and "moderators" in refused.content
    assert "Taken by" not in sandbox.world.message(alert.id).text()

    taken = await (await sandbox.click(scene.moderator, alert, custom_id)).response(timeout=TIMEOUT)
    assert taken.type == 7
    assert f"Taken by <@{scene.moderator.id}>" in sandbox.world.message(alert.id).text()
    await wait_until(lambda: outbox_drained(heard), what="the outbox to drain")


async def test_helpline_input_is_checked(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)
    for text, expected in (("x" * 201, "up to 200 characters"), ("  \n \n", "at least one helpline")):
        ix = await sandbox.slash(scene.admin, scene.guild, "heard helplines", action="edit")
        await ix.modal(timeout=TIMEOUT)
        submitted = await sandbox.submit_modal(scene.admin, ix, {"heard_helplines_lines": text})
        answer = await submitted.response(timeout=TIMEOUT)
        assert answer.ephemeral and expected in answer.content and "Nothing was changed" in answer.content
    assert await crisis_cog(heard).crisis.helplines(scene.guild.id) is None


async def test_a_replayed_gateway_event_is_not_escalated_twice(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    await configure_guild(sandbox)
    ix = await sandbox.slash(scene.admin, scene.guild, "heard alerts", crisis_message_minutes=0)
    await ix.response(timeout=TIMEOUT)
    message = await sandbox.member_says(scene.alex, scene.support, CRISIS_CONCERN)
    await wait_for_crisis_alert(sandbox)
    await wait_for_checkin(sandbox, scene.alex)

    sandbox.hub.dispatch(
        "MESSAGE_CREATE", message.payload, message.guild_id, message.channel_id
    )  # delivered twice
    await sandbox.member_says(scene.sam, scene.support, CRISIS_CONCERN)  # a later message, as a marker
    await wait_for_checkin(sandbox, scene.sam)
    alert = await crisis_cog(heard).crisis.get(scene.guild.id, 1)
    assert alert is not None and alert.occurrences == 1
    assert await crisis_cog(heard).crisis.checkins(scene.guild.id, scene.alex.id) == [("concern", "dm")]
    assert len([m for m in sandbox.dms_to(scene.alex) if "not a crisis service" in m.content]) == 1

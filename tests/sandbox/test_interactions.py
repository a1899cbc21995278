"""Interaction fidelity: slash commands (subcommands, groups, typed options), context menus, responses,
defers, follow-ups, modals, buttons, files, and the sandbox's client-side checks."""

from __future__ import annotations

import pytest

from bot.sandbox import Sandbox, SandboxError, Scene
from tests.sandbox.probe_bot import ProbeBot


@pytest.fixture
async def synced(sandbox: Sandbox, probe: ProbeBot) -> ProbeBot:
    await sandbox.wait_until_synced()
    return probe


async def test_slash_with_typed_options_answers_ephemerally(
    sandbox: Sandbox, scene: Scene, synced: ProbeBot
) -> None:
    ix = await sandbox.slash(
        scene.alex,
        scene.guild,
        "probe echo",
        text="hi",
        times=2,
        loud=True,
        channel=scene.general,
        role=scene.mod_role,
        member=scene.sam,
    )
    response = await ix.response()
    assert response.type == 4 and response.ephemeral
    assert response.content == f"hihi|True|{scene.general.id}|{scene.mod_role.id}|{scene.sam.id}|Member"
    assert sandbox.messages_in(scene.support) == []  # ephemeral: not in the channel
    callback = next(c for c in sandbox.calls if c.route and c.route.endswith("/callback"))
    assert (
        callback.query == {"with_response": "1"} and callback.response["resource"]["message"]["flags"] == 64
    )


async def test_subcommand_group_with_choices_answers_publicly(
    sandbox: Sandbox, scene: Scene, synced: ProbeBot
) -> None:
    ix = await sandbox.slash(
        scene.sam, scene.guild, "probe.config.level", level="high", in_channel=scene.general
    )
    response = await ix.response()
    assert response.content == "level=high" and not response.ephemeral
    assert [m.content for m in sandbox.messages_in(scene.general)] == ["level=high"]
    echoed = await synced.log.wait_for("message", lambda m: m.content == "level=high")
    assert echoed.interaction_metadata is not None and echoed.interaction_metadata.user.id == scene.sam.id
    with pytest.raises(SandboxError, match="choices"):
        await sandbox.slash(scene.sam, scene.guild, "probe config level", level="medium")


async def test_defer_then_edit_original_then_followup(
    sandbox: Sandbox, scene: Scene, synced: ProbeBot
) -> None:
    ix = await sandbox.slash(scene.jo, scene.guild, "probe slow")
    response = await ix.response()
    assert response.type == 5 and response.ephemeral
    original = await ix.original()
    assert original.content == "done thinking" and original.ephemeral
    followups = await ix.followups(count=1)
    assert [m.content for m in followups] == ["one more thing after done thinking"] and followups[0].ephemeral
    routes = [
        c.route for c in sandbox.calls if c.route and c.route.startswith(("/interactions", "/webhooks"))
    ]
    assert routes == [
        "/interactions/{interaction_id}/{interaction_token}/callback",
        "/webhooks/{application_id}/{interaction_token}/messages/{message_id}",  # PATCH @original
        "/webhooks/{application_id}/{interaction_token}/messages/{message_id}",  # GET @original
        "/webhooks/{application_id}/{interaction_token}",
    ]


async def test_modal_open_and_submit(sandbox: Sandbox, scene: Scene, synced: ProbeBot) -> None:
    ix = await sandbox.slash(scene.alex, scene.guild, "probe form")
    modal = await ix.response()
    assert modal.type == 9 and modal.title == "Tell us more"
    submitted = await sandbox.submit_modal(scene.alex, ix, {"probe:feeling": "tired but ok"})
    answer = await submitted.response()
    assert answer.content == "thanks: tired but ok" and answer.ephemeral
    with pytest.raises(SandboxError, match="no field"):
        await sandbox.submit_modal(scene.alex, ix, {"nope": "x"})


async def test_button_click_edits_the_message(sandbox: Sandbox, scene: Scene, synced: ProbeBot) -> None:
    ix = await sandbox.slash(scene.moderator, scene.guild, "probe panel", in_channel=scene.general)
    panel = await ix.original()
    assert panel.custom_ids() == ["probe:ack", "probe:later"]
    click = await sandbox.click(scene.moderator, panel, "probe:ack")
    response = await click.response()
    assert response.type == 7
    updated = sandbox.world.message(panel.id)
    assert updated.content == f"acknowledged by {scene.moderator.id}"
    assert updated.components[0]["components"][0]["disabled"] is True
    await synced.log.wait_for("raw_message_edit", lambda p: p.message_id == panel.id)
    with pytest.raises(SandboxError, match="disabled"):
        await sandbox.click(scene.alex, panel, "probe:ack")


async def test_interaction_response_with_a_file(sandbox: Sandbox, scene: Scene, synced: ProbeBot) -> None:
    ix = await sandbox.slash(scene.admin, scene.guild, "probe file")
    response = await ix.response()
    assert response.ephemeral and [a["filename"] for a in response.attachments] == ["report.csv"]
    assert response.message is not None and response.message.files[0].data == b"col\n1\n"


async def test_context_menus_resolve_their_targets(sandbox: Sandbox, scene: Scene, synced: ProbeBot) -> None:
    ix = await sandbox.user_menu(scene.moderator, scene.guild, "Probe user", scene.riley)
    assert (await ix.response()).content == f"user {scene.riley.id} riley"
    message = await sandbox.member_says(scene.alex, scene.support, "please reflect this")
    ix = await sandbox.message_menu(scene.sam, scene.guild, "Probe message", message)
    assert (await ix.response()).content == f"message {message.id}: please reflect this"


async def test_client_side_checks(sandbox: Sandbox, scene: Scene, synced: ProbeBot) -> None:
    with pytest.raises(SandboxError, match="not synced"):
        await sandbox.slash(scene.alex, scene.guild, "nonexistent")
    with pytest.raises(SandboxError, match="requires option 'text'"):
        await sandbox.slash(scene.alex, scene.guild, "probe echo")
    with pytest.raises(SandboxError, match="no option"):
        await sandbox.slash(scene.alex, scene.guild, "probe echo", text="x", colour="red")
    with pytest.raises(SandboxError, match="default_member_permissions"):
        await sandbox.slash(scene.alex, scene.guild, "admin-only")
    allowed = await sandbox.slash(scene.admin, scene.guild, "admin-only")
    assert (await allowed.response()).content == "manage_guild=True"
    forced = await sandbox.slash(scene.alex, scene.guild, "admin-only", force=True)
    assert (await forced.response()).content == "manage_guild=False"
    with pytest.raises(SandboxError, match="not available in DMs"):
        await sandbox.slash(scene.admin, None, "admin-only")


async def test_double_acknowledge_is_refused(sandbox: Sandbox, scene: Scene, synced: ProbeBot) -> None:
    import discord

    ix = await sandbox.slash(scene.alex, scene.guild, "probe echo", text="once")
    await ix.response()
    adapter = discord.webhook.async_.async_context.get()
    with pytest.raises(discord.HTTPException) as error:
        await adapter.create_interaction_response(
            ix.id,
            ix.token,
            session=synced.http._HTTPClient__session,  # type: ignore[attr-defined]
            params=discord.webhook.async_.interaction_response_params(4, {"content": "twice"}),
        )
    assert error.value.code == 40060


async def test_deferred_update_then_edit_original_edits_the_clicked_message(
    sandbox: Sandbox, scene: Scene, synced: ProbeBot
) -> None:
    ix = await sandbox.slash(scene.moderator, scene.guild, "probe panel")
    panel = await ix.original()
    click = await sandbox.click(scene.moderator, panel, "probe:later")
    assert (await click.response()).type == 6
    edited = await click.original()
    assert edited.id == panel.id
    await sandbox.wait_for_call(lambda c: c.method == "PATCH" and c.status == 200)
    assert sandbox.world.message(panel.id).content == "handled later"


async def test_followup_edit_and_original_delete(sandbox: Sandbox, scene: Scene, synced: ProbeBot) -> None:
    ix = await sandbox.slash(scene.alex, scene.guild, "probe tidy", in_channel=scene.general)
    followups = await ix.followups(count=1)
    deleted = await synced.log.wait_for(
        "raw_message_delete", lambda p: p.message_id == ix.original_message_id
    )
    assert deleted.channel_id == scene.general.id
    assert [m.content for m in sandbox.messages_in(scene.general)] == ["followup edited"]
    assert followups[0].content == "followup edited" and followups[0].edit_count == 1


async def test_slash_in_a_dm(sandbox: Sandbox, scene: Scene, synced: ProbeBot) -> None:
    ix = await sandbox.slash(scene.alex, None, "probe echo", text="dm")
    response = await ix.response()
    assert response.content.endswith("|User") and response.content.startswith("dm|")
    assert "user" in ix.payload and "member" not in ix.payload


async def test_guild_scoped_sync_is_used_for_that_guild(
    sandbox: Sandbox, scene: Scene, synced: ProbeBot
) -> None:
    import discord

    guild = discord.Object(id=scene.guild.id)
    synced.tree.copy_global_to(guild=guild)
    commands = await synced.tree.sync(guild=guild)
    assert {c.name for c in commands} >= {"probe", "admin-only"}
    assert all(c.guild_id == scene.guild.id for c in commands)
    ix = await sandbox.slash(scene.alex, scene.guild, "probe echo", text="scoped")
    assert ix.payload["data"]["guild_id"] == str(scene.guild.id)
    assert (await ix.response()).content.startswith("scoped|")
    fetched = await synced.tree.fetch_commands(guild=guild)
    assert sorted(c.name for c in fetched) == sorted(c.name for c in commands)


async def test_autocomplete_returns_choices(sandbox: Sandbox, scene: Scene, synced: ProbeBot) -> None:
    ix = await sandbox.autocomplete(scene.alex, scene.guild, "probe pick", focused="topic", topic="st")
    response = await ix.response()
    assert response.type == 8
    assert response.choices == [{"name": "Stress", "value": "stress"}, {"name": "Study", "value": "study"}]


async def test_select_menus_send_values_and_resolved_users(
    sandbox: Sandbox, scene: Scene, synced: ProbeBot
) -> None:
    ix = await sandbox.slash(scene.alex, scene.guild, "probe choose")
    message = await ix.original()
    picked = await sandbox.click(scene.alex, message, "probe:topic", values=["work"])
    assert (await picked.response()).content == "topic=['work']"
    who = await sandbox.click(scene.alex, message, "probe:who", values=[scene.sam])
    assert (await who.response()).content == f"who={[scene.sam.id]}"
    with pytest.raises(SandboxError, match="no option"):
        await sandbox.click(scene.alex, message, "probe:topic", values=["play"])


async def test_components_v2_layout(sandbox: Sandbox, scene: Scene, synced: ProbeBot) -> None:
    ix = await sandbox.slash(scene.alex, scene.guild, "probe layout")
    response = await ix.response()
    assert response.ephemeral and response.flags & (1 << 15)
    assert response.message is not None and "A gentle notice" in response.message.text()


async def test_interaction_callback_faults_are_retried(
    sandbox: Sandbox, scene: Scene, synced: ProbeBot
) -> None:
    route = "/interactions/{interaction_id}/{interaction_token}/callback"
    sandbox.faults.fail_next("POST", route, status=429, retry_after=0.05)
    ix = await sandbox.slash(scene.alex, scene.guild, "probe echo", text="patient")
    assert (await ix.response()).content.startswith("patient|")
    statuses = [c.status for c in sandbox.calls if c.route == route]
    assert statuses == [429, 200] and sandbox.faults.pending == 0


async def test_first_followup_after_thinking_replaces_the_loading_message(
    sandbox: Sandbox, scene: Scene, synced: ProbeBot
) -> None:
    ix = await sandbox.slash(scene.sam, scene.guild, "probe think", in_channel=scene.general)
    followups = await ix.followups(count=1)
    original = await ix.original()
    assert followups[0].id == original.id and original.content == "the answer" and not original.ephemeral
    assert [m.content for m in sandbox.messages_in(scene.general)] == ["the answer"]
    assert not original.flags & (1 << 7)  # no longer "loading"


async def test_a_refused_response_is_explained_when_the_wait_times_out(
    sandbox: Sandbox, scene: Scene, synced: ProbeBot
) -> None:
    from bot.sandbox import SandboxTimeout

    ix = await sandbox.slash(scene.alex, scene.guild, "probe echo", text="x" * 1000, times=3)
    await sandbox.wait_for_call(lambda c: bool(c.route and c.route.endswith("/callback") and c.status == 400))
    with pytest.raises(SandboxTimeout) as error:
        await ix.response(timeout=0.1)
    assert "callback -> 400  (50035: Invalid Form Body)" in str(error.value)


async def test_attachment_option_is_resolved_and_downloadable(
    sandbox: Sandbox, scene: Scene, synced: ProbeBot
) -> None:
    ix = await sandbox.slash(scene.alex, scene.guild, "probe upload", file=("notes.txt", b"hello there"))
    assert (await ix.response()).content == "notes.txt:hello there"

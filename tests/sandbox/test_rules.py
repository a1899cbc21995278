"""Pure checks of the sandbox's Discord rules (no sockets): limits, command store, faults, permissions."""

from __future__ import annotations

import pytest

from bot.sandbox import permissions as perms
from bot.sandbox.commands import CommandStore
from bot.sandbox.faults import FaultPlan
from bot.sandbox.validation import DiscordError, check_message
from bot.sandbox.world import Overwrite, SandboxError, World


@pytest.mark.parametrize(
    ("body", "code", "fragment"),
    [
        ({"content": ""}, 50006, "empty"),
        ({"content": "   "}, 50006, "empty"),
        ({"content": "x" * 2001}, 50035, "2000"),
        ({"embeds": [{"title": "t" * 257}]}, 50035, "256"),
        ({"embeds": [{"description": "d"}] * 11}, 50035, "10"),
        ({"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]}, 50035, "1024"),
        ({"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]}, 50035, "6000"),
        ({"components": [{"type": 1, "components": []}] * 6}, 50035, "5"),
        (
            {"content": "x", "flags": 1 << 15, "components": [{"type": 10, "content": "y"}]},
            50035,
            "COMPONENTS_V2",
        ),
        (
            {"components": [{"type": 1, "components": [{"type": 2, "custom_id": "a" * 101, "label": "l"}]}]},
            50035,
            "100",
        ),
    ],
)
def test_message_limits(body: dict[str, object], code: int, fragment: str) -> None:
    with pytest.raises(DiscordError) as error:
        check_message(body)
    assert error.value.code == code
    assert fragment in str(error.value.body())


def test_acceptable_messages_pass() -> None:
    check_message({"content": "x" * 2000})
    check_message({"embeds": [{"description": "d" * 4096}]})
    check_message({"content": "", "embeds": [], "components": []}, file_count=1)
    check_message({"flags": 1 << 15, "components": [{"type": 10, "content": "hello"}]})


def test_command_store_keeps_ids_across_syncs_and_rejects_bad_names() -> None:
    counter = iter(range(100, 1000))
    store = CommandStore(application_id=1, new_id=lambda: next(counter))
    first = store.put(None, [{"name": "heard", "description": "d"}, {"name": "Menu", "type": 3}])
    second = store.put(None, [{"name": "heard", "description": "changed"}])
    assert first[0]["id"] == second[0]["id"]
    assert store.find(None, "Menu", 3) is None and store.sync_count == 2
    with pytest.raises(DiscordError):
        store.put(None, [{"name": "Bad Name", "description": "d"}])
    with pytest.raises(DiscordError):
        store.put(None, [{"name": "dup", "description": "d"}, {"name": "dup", "description": "d"}])
    store.put(7, [{"name": "guildonly", "description": "d"}])
    assert store.find(7, "guildonly", 1) is not None and store.find(None, "guildonly", 1) is None


def test_fault_plan_matches_method_route_and_params() -> None:
    plan = FaultPlan()
    plan.fail_next("POST", "/channels/{channel_id}/messages", status=503, count=2, channel_id=5)
    assert plan.take("POST", "/channels/{channel_id}/messages", {"channel_id": "6"}) is None
    assert plan.take("GET", "/channels/{channel_id}/messages", {"channel_id": "5"}) is None
    rule = plan.take("POST", "/channels/{channel_id}/messages", {"channel_id": "5"})
    assert rule is not None and rule.body()["message"] == "503: Service Unavailable"
    assert plan.pending == 1
    limited = plan.fail_next("GET", "/users/@me", status=429, retry_after=1.5)
    assert limited.headers()["Via"] and limited.body()["retry_after"] == 1.5


def test_world_permission_rules() -> None:
    world = World()
    owner = world.add_user("owner")
    guild = world.add_guild("G", owner=owner)
    admins = world.add_role(guild, "admins", permissions=perms.ADMINISTRATOR)
    boss = world.add_member(guild, "boss", roles=[admins])
    member = world.add_member(guild, "member")
    hidden = world.add_text_channel(guild, "hidden", overwrites=[Overwrite(guild, deny=perms.VIEW_CHANNEL)])
    assert world.permissions_for(owner, hidden) == perms.ALL_PERMISSIONS
    assert world.permissions_for(boss, hidden) == perms.ALL_PERMISSIONS
    assert not world.permissions_for(member, hidden) & perms.VIEW_CHANNEL
    muted = world.add_text_channel(guild, "muted", overwrites=[Overwrite(member, deny=perms.SEND_MESSAGES)])
    rights = world.permissions_for(member, muted)
    assert rights & perms.VIEW_CHANNEL and not rights & (
        perms.SEND_MESSAGES | perms.EMBED_LINKS | perms.ATTACH_FILES
    )
    staff = world.add_category(guild, "staff", overwrites=[Overwrite(guild, deny=perms.VIEW_CHANNEL)])
    synced = world.add_text_channel(guild, "synced", category=staff)
    assert not world.permissions_for(member, synced) & perms.VIEW_CHANNEL
    world.update_member(guild, member, communication_disabled_until="2999-01-01T00:00:00+00:00")
    assert world.permissions_for(member, world.add_text_channel(guild, "open")) == (
        perms.VIEW_CHANNEL | perms.READ_MESSAGE_HISTORY
    )
    with pytest.raises(SandboxError):
        world.delete_role(guild.everyone)


async def test_members_cannot_send_what_discord_would_refuse() -> None:
    from bot.sandbox import Sandbox

    async with Sandbox.running() as sandbox:
        scene = sandbox.world.seed_default()
        with pytest.raises(SandboxError, match="4000"):
            await sandbox.member_says(scene.alex, scene.support, "x" * 4001)
        with pytest.raises(SandboxError, match="empty"):
            await sandbox.member_says(scene.alex, scene.support, "   ")
        with pytest.raises(SandboxError, match="cannot post"):
            await sandbox.member_says(scene.alex, scene.mod_alerts, "let me in")
        with pytest.raises(SandboxError, match="forum"):
            await sandbox.member_says(scene.alex, scene.vent, "not a thread")
        accepted = await sandbox.member_says(scene.alex, scene.support, "x" * 4000)
        assert len(accepted.content) == 4000

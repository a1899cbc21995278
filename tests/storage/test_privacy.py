"""The member-data registry matches the schema, and the privacy repository forgets, purges, deletes and
exports exactly what it should (real SQLite file, every migration applied)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage.database import Database
from bot.storage.privacy import PrivacyRepository, RegistryError, iso, load_registry

GUILD_A = 111
GUILD_B = 222
MEMBER = 501
OTHER = 502
MODERATOR = 503
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
EXCERPT = "you should just get over it"
# Column names that hold a Discord user id: they must be declared as member columns in the registry.
USER_ID_COLUMN = re.compile(r"(^|_)(user_id|member_id|author_id|actor_id)$|_by$|_by_user_id$")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A real database file with every migration applied."""
    database = await Database.open(tmp_path / "heard.sqlite3")
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def privacy(db: Database) -> PrivacyRepository:
    """The privacy repository with the default 30-day retention."""
    return PrivacyRepository(db, setting_days={"retention_days": 30})


async def schema(db: Database) -> dict[str, dict[str, str]]:
    """Return every table of the live schema with its columns and declared types."""
    tables = await db.fetch_all(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )
    result: dict[str, dict[str, str]] = {}
    for table in tables:
        columns = await db.fetch_all(f"PRAGMA table_info('{table['name']}')")
        result[str(table["name"])] = {str(column["name"]): str(column["type"]) for column in columns}
    return result


async def count(db: Database, sql: str, *params: object) -> int:
    """Return the single number a COUNT query gives."""
    row = await db.fetch_one(sql, params)
    assert row is not None
    return int(row[0])


async def seed_guild(db: Database, guild_id: int, *, age_days: float = 0) -> dict[str, int]:
    """Store one of everything for ``guild_id`` (member, other member, moderator); return flag ids."""
    stamp = iso(NOW - timedelta(days=age_days))
    run = db.execute
    await run(
        "INSERT INTO guild_config (guild_id, mod_channel_id, mod_role_id, setup_by_user_id, created_at,"
        " updated_at) VALUES (?, 900, 901, ?, ?, ?)",
        (guild_id, MEMBER, stamp, stamp),
    )
    await run(
        "INSERT INTO watched_channel (guild_id, channel_id, kind, added_by_user_id, added_at)"
        " VALUES (?, 910, 'text', ?, ?)",
        (guild_id, MEMBER, stamp),
    )
    await run(
        "INSERT INTO nudge_settings (guild_id, updated_by_user_id, updated_at) VALUES (?, ?, ?)",
        (guild_id, MEMBER, stamp),
    )
    await run("INSERT INTO moderation_settings (guild_id, updated_at) VALUES (?, ?)", (guild_id, stamp))
    await run("INSERT INTO helpline (guild_id, position, line) VALUES (?, 0, 'Call 988 (US)')", (guild_id,))
    for member, message in ((MEMBER, guild_id * 10 + 1), (OTHER, guild_id * 10 + 2)):
        await run(
            "INSERT INTO nudge (guild_id, member_id, channel_id, message_id, codes, result, created_at,"
            " updated_at) VALUES (?, ?, 910, ?, 'advising', 'dm', ?, ?)",
            (guild_id, member, message, stamp, stamp),
        )
    flags: dict[str, int] = {}
    for name, author in (("member", MEMBER), ("other", OTHER)):
        result = await run(
            "INSERT INTO flag (guild_id, channel_id, message_id, author_id, codes, confidence, excerpt,"
            " latest_channel_id, latest_message_id, decided_by, created_at, last_seen_at)"
            " VALUES (?, 910, ?, ?, 'judging', 0.9, ?, 910, ?, ?, ?, ?)",
            (guild_id, author + guild_id, author, EXCERPT, author + guild_id, MODERATOR, stamp, stamp),
        )
        assert result.lastrowid is not None
        flags[name] = result.lastrowid
        await run(
            "INSERT INTO flag_code (flag_id, code, confidence) VALUES (?, 'judging', 0.9)",
            (result.lastrowid,),
        )
        await run(
            "INSERT INTO flag_message (flag_id, channel_id, message_id, seen_at) VALUES (?, 910, ?, ?)",
            (result.lastrowid, author + guild_id, stamp),
        )
        await run(
            "INSERT INTO flag_audit (guild_id, flag_id, actor_id, action, previous_status, new_status,"
            " detail, created_at) VALUES (?, ?, ?, 'resolve', 'open', 'resolved', 'dm', ?)",
            (guild_id, result.lastrowid, MODERATOR, stamp),
        )
    # The member also acted as a moderator once.
    await run(
        "INSERT INTO flag_audit (guild_id, flag_id, actor_id, action, previous_status, new_status,"
        " created_at) VALUES (?, ?, ?, 'false_alarm', 'resolved', 'false_alarm', ?)",
        (guild_id, flags["other"], MEMBER, stamp),
    )
    for author in (MEMBER, OTHER):
        await run(
            "INSERT INTO crisis_alert (guild_id, author_id, channel_id, message_id, level, indicators,"
            " latest_channel_id, latest_message_id, created_at, last_seen_at)"
            " VALUES (?, ?, 910, 77, 'concern', 'hopelessness', 910, 77, ?, ?)",
            (guild_id, author, stamp, stamp),
        )
        await run(
            "INSERT INTO crisis_checkin (guild_id, user_id, level, result, sent_at) VALUES (?, ?, 'concern',"
            " 'dm', ?)",
            (guild_id, author, stamp),
        )
    await run(
        "INSERT INTO alert_outbox (guild_id, kind, ref_id, operation, next_attempt_at, created_at)"
        " VALUES (?, 'flag', ?, 'send', ?, ?)",
        (guild_id, flags["member"], stamp, stamp),
    )
    await run(
        "INSERT INTO daily_stat (guild_id, channel_id, day, replies_seen) VALUES (?, 910, '2026-11-26', 3)",
        (guild_id,),
    )
    return flags


async def seed_member_wide(db: Database, *, opted_out: bool) -> None:
    """Store the member's own nudge preference (member-wide) and a DM check-in (guild 0)."""
    stamp = iso(NOW)
    await db.execute(
        "INSERT INTO nudge_member (user_id, opted_out, intro_sent_at, updated_at) VALUES (?, ?, ?, ?)",
        (MEMBER, int(opted_out), stamp, stamp),
    )
    await db.execute(
        "INSERT INTO crisis_checkin (guild_id, user_id, level, result, sent_at)"
        " VALUES (0, ?, 'concern', 'dm', ?)",
        (MEMBER, stamp),
    )


# ----- the registry cannot drift from the schema ---------------------------------------------------------


async def test_every_table_is_registered_or_declared_free_of_member_data(db: Database) -> None:
    registry = load_registry()
    tables = set(await schema(db))
    registered = set(registry.tables) | set(registry.no_member_data)
    assert tables - registered == set(), "add these tables to bot/storage/member_data.toml"
    assert registered - tables == set(), "the registry names tables the migrations don't create"


async def test_every_column_the_registry_names_exists(db: Database) -> None:
    registry = load_registry()
    live = await schema(db)
    for policy in registry.tables.values():
        missing = policy.columns_named() - set(live[policy.name])
        assert not missing, f"{policy.name}: no such columns {sorted(missing)}"
        if policy.parent is not None:
            assert policy.parent.references in live[policy.parent.table]


async def test_every_user_id_column_is_a_declared_member_column(db: Database) -> None:
    registry = load_registry()
    for table, columns in (await schema(db)).items():
        user_columns = {column for column in columns if USER_ID_COLUMN.search(column)}
        if table in registry.no_member_data:
            assert not user_columns, f"{table} holds user ids but is listed under no_member_data"
            continue
        undeclared = user_columns - set(registry.tables[table].member_columns)
        assert not undeclared, f"{table}: declare {sorted(undeclared)} as member_columns"


def test_registry_rejects_unknown_keys_and_bad_names() -> None:
    with pytest.raises(RegistryError, match="unknown keys"):
        load_registry('[tables.x]\nholds = "x"\nmember_columns = []\nkeep_forever = true\n')
    with pytest.raises(RegistryError, match="plain lower-case SQL name"):
        load_registry('[tables.x]\nholds = "x"\nmember_columns = ["a; DROP TABLE flag"]\nforget = "delete"\n')
    with pytest.raises(RegistryError, match="member columns need"):
        load_registry('[tables.x]\nholds = "x"\nmember_columns = ["user_id"]\n')


def test_retention_periods_read_the_settings() -> None:
    registry = load_registry()
    assert registry.period_days("excerpts", {"retention_days": 12}) == 12
    assert registry.period_days("nudges", {"retention_days": 12}) == 90


# ----- /forget-me ---------------------------------------------------------------------------------------


async def test_forget_member_in_guild_a_leaves_guild_b_and_other_members_untouched(
    db: Database, privacy: PrivacyRepository
) -> None:
    flags_a = await seed_guild(db, GUILD_A)
    flags_b = await seed_guild(db, GUILD_B)
    await seed_member_wide(db, opted_out=True)
    before_b = {
        table: await count(
            db, f"SELECT COUNT(*) FROM {table} WHERE guild_id = ? AND {column} = ?", GUILD_B, MEMBER
        )
        for table, column in (("nudge", "member_id"), ("flag", "author_id"), ("crisis_checkin", "user_id"))
    }

    counts = await privacy.forget_member(GUILD_A, MEMBER, keep_opt_out=False)

    assert counts["nudge"] == 1
    assert counts["crisis_checkin"] == 2  # the guild's check-in and the DM one
    assert counts["nudge_member"] == 1
    assert counts["flag"] == 1 and counts["flag_audit"] == 1 and counts["crisis_alert"] == 1
    assert counts["flag_message"] == 1
    assert counts["guild_config"] == counts["watched_channel"] == counts["nudge_settings"] == 1
    # Guild A: nothing left that names the member.
    assert (
        await count(db, "SELECT COUNT(*) FROM nudge WHERE guild_id = ? AND member_id = ?", GUILD_A, MEMBER)
        == 0
    )
    member_flag = await db.fetch_one("SELECT * FROM flag WHERE id = ?", (flags_a["member"],))
    assert member_flag is not None
    assert member_flag["author_id"] == 0 and member_flag["excerpt"] is None
    assert member_flag["codes"] == "judging" and member_flag["decided_by"] == MODERATOR  # history stays
    assert await count(db, "SELECT COUNT(*) FROM flag_message WHERE flag_id = ?", flags_a["member"]) == 0
    assert await count(db, "SELECT COUNT(*) FROM flag_code WHERE flag_id = ?", flags_a["member"]) == 1
    audit = await db.fetch_all(
        "SELECT actor_id, action FROM flag_audit WHERE guild_id = ? ORDER BY id", (GUILD_A,)
    )
    assert [(row["actor_id"], row["action"]) for row in audit] == [
        (MODERATOR, "resolve"),
        (MODERATOR, "resolve"),
        (0, "false_alarm"),
    ]
    config = await db.fetch_one(
        "SELECT setup_by_user_id, mod_channel_id FROM guild_config WHERE guild_id = ?", (GUILD_A,)
    )
    assert config is not None and config["setup_by_user_id"] is None and config["mod_channel_id"] == 900
    # The other member's rows in guild A are untouched.
    other_flag = await db.fetch_one("SELECT author_id, excerpt FROM flag WHERE id = ?", (flags_a["other"],))
    assert other_flag is not None and other_flag["author_id"] == OTHER and other_flag["excerpt"] == EXCERPT
    assert (
        await count(db, "SELECT COUNT(*) FROM nudge WHERE guild_id = ? AND member_id = ?", GUILD_A, OTHER)
        == 1
    )
    # Guild B is untouched.
    after_b = {
        table: await count(
            db, f"SELECT COUNT(*) FROM {table} WHERE guild_id = ? AND {column} = ?", GUILD_B, MEMBER
        )
        for table, column in (("nudge", "member_id"), ("flag", "author_id"), ("crisis_checkin", "user_id"))
    }
    assert after_b == before_b == {"nudge": 1, "flag": 1, "crisis_checkin": 1}
    b_flag = await db.fetch_one("SELECT excerpt FROM flag WHERE id = ?", (flags_b["member"],))
    assert b_flag is not None and b_flag["excerpt"] == EXCERPT
    assert (
        await count(
            db, "SELECT COUNT(*) FROM flag_audit WHERE guild_id = ? AND actor_id = ?", GUILD_B, MEMBER
        )
        == 1
    )
    # The opt-out was deleted as asked.
    assert await count(db, "SELECT COUNT(*) FROM nudge_member WHERE user_id = ?", MEMBER) == 0


async def test_forget_member_can_keep_the_opt_out(db: Database, privacy: PrivacyRepository) -> None:
    await seed_guild(db, GUILD_A)
    await seed_member_wide(db, opted_out=True)
    counts = await privacy.forget_member(GUILD_A, MEMBER, keep_opt_out=True)
    assert counts["nudge_member"] == 0
    row = await db.fetch_one("SELECT opted_out, intro_sent_at FROM nudge_member WHERE user_id = ?", (MEMBER,))
    assert row is not None and row["opted_out"] == 1 and row["intro_sent_at"] is None


async def test_keeping_the_opt_out_of_a_member_who_never_opted_out_deletes_the_row(
    db: Database, privacy: PrivacyRepository
) -> None:
    await seed_member_wide(db, opted_out=False)
    counts = await privacy.forget_member(GUILD_A, MEMBER, keep_opt_out=True)
    assert counts["nudge_member"] == 1
    assert await count(db, "SELECT COUNT(*) FROM nudge_member") == 0


async def test_forget_member_twice_changes_nothing_the_second_time(
    db: Database, privacy: PrivacyRepository
) -> None:
    await seed_guild(db, GUILD_A)
    await privacy.forget_member(GUILD_A, MEMBER, keep_opt_out=False)
    again = await privacy.forget_member(GUILD_A, MEMBER, keep_opt_out=False)
    assert set(again.values()) == {0}


async def test_the_audit_trail_stays_append_only_after_anonymising(
    db: Database, privacy: PrivacyRepository
) -> None:
    await seed_guild(db, GUILD_A)
    await privacy.forget_member(GUILD_A, MODERATOR, keep_opt_out=False)
    assert await count(db, "SELECT COUNT(*) FROM flag_audit WHERE actor_id = 0") == 2
    with pytest.raises(Exception, match="append-only"):
        await db.execute("UPDATE flag_audit SET action = 'rewritten'")


# ----- retention --------------------------------------------------------------------------------------


async def test_retention_purges_exactly_the_rows_past_the_cut_off(
    db: Database, privacy: PrivacyRepository
) -> None:
    old_a = await seed_guild(db, GUILD_A, age_days=30.01)  # just past 30 days (excerpts) but not 90 (nudges)
    young_b = await seed_guild(db, GUILD_B, age_days=29.99)  # just inside 30 days
    await db.execute(
        "INSERT INTO nudge (guild_id, member_id, channel_id, message_id, codes, result, created_at,"
        " updated_at)"
        " VALUES (?, ?, 910, 9001, 'advising', 'dm', ?, ?)",
        (GUILD_A, MEMBER, iso(NOW - timedelta(days=90.01)), iso(NOW - timedelta(days=90.01))),
    )
    await db.execute(
        "INSERT INTO nudge (guild_id, member_id, channel_id, message_id, codes, result, created_at,"
        " updated_at)"
        " VALUES (?, ?, 910, 9002, 'advising', 'dm', ?, ?)",
        (GUILD_A, MEMBER, iso(NOW - timedelta(days=89.99)), iso(NOW - timedelta(days=89.99))),
    )

    counts = await privacy.purge_expired(NOW)

    assert counts == {"flag_message": 2, "crisis_checkin": 2, "flag": 2, "nudge": 1, "alerts_refreshed": 0}
    excerpts = await db.fetch_all("SELECT id, excerpt FROM flag ORDER BY id")
    assert {row["id"]: row["excerpt"] for row in excerpts} == {
        old_a["member"]: None,
        old_a["other"]: None,
        young_b["member"]: EXCERPT,
        young_b["other"]: EXCERPT,
    }
    # Aggregate counts survive: every flag row, its codes and its audit trail are still there.
    assert await count(db, "SELECT COUNT(*) FROM flag WHERE guild_id = ?", GUILD_A) == 2
    assert await count(db, "SELECT COUNT(*) FROM flag_code") == 4
    assert await count(db, "SELECT COUNT(*) FROM flag_audit WHERE guild_id = ?", GUILD_A) == 3
    assert await count(db, "SELECT COUNT(*) FROM crisis_alert WHERE guild_id = ?", GUILD_A) == 2
    assert (
        await count(db, "SELECT COUNT(*) FROM flag_message WHERE flag_id IN (?, ?)", *young_b.values()) == 2
    )
    assert await count(db, "SELECT COUNT(*) FROM crisis_checkin WHERE guild_id = ?", GUILD_B) == 2
    nudges = await db.fetch_all(
        "SELECT message_id FROM nudge WHERE guild_id = ? ORDER BY message_id", (GUILD_A,)
    )
    assert [row["message_id"] for row in nudges] == [GUILD_A * 10 + 1, GUILD_A * 10 + 2, 9002]

    assert set((await privacy.purge_expired(NOW)).values()) == {0}  # idempotent


async def test_retention_days_come_from_the_setting(db: Database) -> None:
    await seed_guild(db, GUILD_A, age_days=8)
    short = PrivacyRepository(db, setting_days={"retention_days": 7})
    assert (await short.purge_expired(NOW))["flag"] == 2
    assert await count(db, "SELECT COUNT(*) FROM flag WHERE excerpt IS NOT NULL") == 0


async def test_retention_runs_are_recorded_with_counts_only(privacy: PrivacyRepository) -> None:
    assert await privacy.last_retention_run() is None
    await privacy.record_retention_run(NOW, rows_purged=5, guilds_deleted=1)
    run = await privacy.last_retention_run()
    assert run is not None and (run.rows_purged, run.guilds_deleted) == (5, 1)


async def posted_alert(db: Database, guild_id: int, kind: str, ref_id: int) -> None:
    """Record that the alert of a flag or crisis row was delivered to the moderator channel."""
    await db.execute(
        "INSERT INTO alert_outbox (guild_id, kind, ref_id, operation, state, next_attempt_at, channel_id,"
        " message_id, created_at, done_at) VALUES (?, ?, ?, 'send', 'done', ?, 900, 9999, ?, ?)",
        (guild_id, kind, ref_id, iso(NOW), iso(NOW), iso(NOW)),
    )


async def queued_edits(db: Database) -> list[tuple[str, int]]:
    """Return the alert edits waiting in the outbox."""
    rows = await db.fetch_all(
        "SELECT kind, ref_id FROM alert_outbox WHERE operation = 'edit' AND state = 'pending' ORDER BY id"
    )
    return [(str(row["kind"]), int(row["ref_id"])) for row in rows]


async def test_purged_and_anonymised_rows_get_their_posted_alerts_re_rendered(
    db: Database, privacy: PrivacyRepository
) -> None:
    old = await seed_guild(db, GUILD_A, age_days=31)
    await db.execute("DELETE FROM alert_outbox")
    await posted_alert(db, GUILD_A, "flag", old["member"])
    counts = await privacy.purge_expired(NOW)
    assert counts["alerts_refreshed"] == 1
    assert await queued_edits(db) == [("flag", old["member"])]  # the other flag's alert was never posted

    crisis = await db.fetch_one(
        "SELECT id FROM crisis_alert WHERE guild_id = ? AND author_id = ?", (GUILD_A, MEMBER)
    )
    assert crisis is not None
    await posted_alert(db, GUILD_A, "crisis", crisis["id"])
    await db.execute("UPDATE alert_outbox SET state = 'done' WHERE operation = 'edit'")
    forgotten = await privacy.forget_member(GUILD_A, MEMBER, keep_opt_out=False)
    assert forgotten["alerts_refreshed"] == 2
    assert sorted(await queued_edits(db)) == [("crisis", crisis["id"]), ("flag", old["member"])]


# ----- leaving a guild ------------------------------------------------------------------------------


async def test_guild_data_is_deleted_only_after_the_grace_period(
    db: Database, privacy: PrivacyRepository
) -> None:
    await seed_guild(db, GUILD_A)
    await seed_guild(db, GUILD_B)
    await seed_member_wide(db, opted_out=True)
    pending = await privacy.schedule_guild_deletion(GUILD_A, grace_days=7, now=NOW)
    assert pending.delete_after == iso(NOW + timedelta(days=7))
    # A second removal event keeps the first schedule.
    again = await privacy.schedule_guild_deletion(GUILD_A, grace_days=7, now=NOW + timedelta(days=3))
    assert again == pending

    assert await privacy.delete_due_guilds(NOW + timedelta(days=6, hours=23)) == []
    assert await count(db, "SELECT COUNT(*) FROM flag WHERE guild_id = ?", GUILD_A) == 2

    assert await privacy.delete_due_guilds(NOW + timedelta(days=7)) == [GUILD_A]
    live = await schema(db)
    registry = load_registry()
    for table in registry.tables.values():
        if table.guild_column is not None and table.name != "crisis_checkin":
            assert (
                await count(db, f"SELECT COUNT(*) FROM {table.name} WHERE {table.guild_column} = ?", GUILD_A)
                == 0
            )
    assert "guild_id" in live["flag"]
    assert await count(db, "SELECT COUNT(*) FROM flag_code") == 2  # only guild B's
    assert await count(db, "SELECT COUNT(*) FROM flag WHERE guild_id = ?", GUILD_B) == 2
    assert await count(db, "SELECT COUNT(*) FROM nudge_member") == 1  # member-wide choices stay
    assert await count(db, "SELECT COUNT(*) FROM crisis_checkin WHERE guild_id = 0") == 1
    assert await privacy.pending_guild_deletions() == []


async def test_cancelled_deletion_keeps_the_data(db: Database, privacy: PrivacyRepository) -> None:
    await seed_guild(db, GUILD_A)
    await privacy.schedule_guild_deletion(GUILD_A, grace_days=7, now=NOW)
    assert await privacy.cancel_guild_deletion(GUILD_A) is True
    assert await privacy.cancel_guild_deletion(GUILD_A) is False
    assert await privacy.delete_due_guilds(NOW + timedelta(days=30)) == []
    assert await count(db, "SELECT COUNT(*) FROM flag WHERE guild_id = ?", GUILD_A) == 2
    assert await privacy.guild_ids_with_data() == {GUILD_A}


# ----- export -----------------------------------------------------------------------------------------


async def test_export_holds_configuration_and_audit_but_no_message_text(
    db: Database, privacy: PrivacyRepository
) -> None:
    flags = await seed_guild(db, GUILD_A)
    await seed_guild(db, GUILD_B)
    exported = await privacy.export_guild(GUILD_A, now=NOW)
    text = json.dumps(exported)
    assert EXCERPT not in text and '"excerpt"' not in text
    tables = exported["tables"]
    assert tables["guild_config"][0]["mod_channel_id"] == "900"
    assert [row["channel_id"] for row in tables["watched_channel"]] == ["910"]
    assert sorted(row["id"] for row in tables["flag"]) == sorted(flags.values())
    assert {row["author_id"] for row in tables["flag"]} == {str(MEMBER), str(OTHER)}
    assert len(tables["flag_audit"]) == 3 and len(tables["flag_code"]) == 2
    assert tables["helpline"] == [{"guild_id": str(GUILD_A), "position": 0, "line": "Call 988 (US)"}]
    assert "nudge" not in tables and "crisis_checkin" not in tables
    assert str(GUILD_B) not in text


def test_the_readme_describes_every_table_and_member_column() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## What Heard stores", 1)[-1].split("\n## ", 1)[0]
    if "| Table | Member ids (columns) |" not in section:
        pytest.skip("README.md does not have the generated 'What Heard stores' table yet (see trust notes)")
    registry = load_registry()
    for policy in registry.tables.values():
        row = next((line for line in section.splitlines() if line.startswith(f"| `{policy.name}` |")), None)
        assert row is not None, f"README's 'What Heard stores' lacks the table {policy.name}"
        for column in (*policy.member_columns, *policy.excerpt_columns):
            assert column in row, f"README's row for {policy.name} lacks the column {column}"
    for name in registry.no_member_data:
        assert f"`{name}`" in section

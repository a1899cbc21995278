"""Privacy in one place: the registry of stored member data, and the code that executes it.

``member_data.toml`` lists every table that can hold guild or member data: its guild column, member columns,
excerpt and detail columns, retention rule, what ``/forget-me`` does, and whether ``/heard export`` includes
it. :class:`PrivacyRepository` runs those rules — forgetting a member, purging expired rows, deleting a
guild's data after Heard was removed, and exporting a guild's configuration and flag audit — so no other
module needs to know which tables hold what.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from types import MappingProxyType
from typing import Any, Final, Literal

import aiosqlite

from bot.storage.alert_outbox import enqueue_edit
from bot.storage.database import Database

REGISTRY_FILE: Final = "member_data.toml"
IDENTIFIER: Final = re.compile(r"^[a-z_][a-z0-9_]*$")
EXPORT_FORMAT: Final = "heard-guild-export"
EXPORT_VERSION: Final = 1
RETENTION_RUNS_KEPT: Final = 100

ForgetAction = Literal["delete", "anonymise", "keep"]
RetentionAction = Literal["delete", "clear"]
FORGET_ACTIONS: Final = ("delete", "anonymise", "keep")
RETENTION_ACTIONS: Final = ("delete", "clear")
ALERT_KINDS: Final = ("flag", "crisis")
ALERTS_REFRESHED: Final = "alerts_refreshed"
TABLE_KEYS: Final = frozenset(
    {
        "holds",
        "guild_column",
        "parent",
        "member_columns",
        "excerpt_columns",
        "detail_columns",
        "timestamp_column",
        "retention",
        "forget",
        "anonymise_to",
        "clear_on_forget",
        "forget_via_parent",
        "opt_out",
        "include_dm_rows",
        "export",
        "alert_kind",
        "kept",
    }
)


class RegistryError(ValueError):
    """The member-data registry is malformed (the message names the table and key)."""


def iso(moment: datetime) -> str:
    """Return ``moment`` as fixed-width UTC ISO-8601 text with microseconds (sortable as text)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def utc_now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


def _quoted(name: str) -> str:
    """Return an identifier from the registry quoted for SQL (names were validated on load)."""
    return f'"{name}"'


@dataclass(frozen=True, slots=True)
class RetentionPeriod:
    """How long something is kept: a setting (days) or a fixed number of days."""

    name: str
    setting: str | None = None
    days: int | None = None

    def resolve(self, setting_days: Mapping[str, int]) -> int:
        """Return the number of days, reading the named setting from ``setting_days`` when there is one."""
        if self.setting is not None:
            if self.setting not in setting_days:
                raise RegistryError(f"retention period {self.name!r} needs the setting {self.setting!r}")
            return int(setting_days[self.setting])
        assert self.days is not None
        return self.days


@dataclass(frozen=True, slots=True)
class RetentionRule:
    """Rows older than the period are deleted, or the listed columns are cleared."""

    period: str
    action: RetentionAction
    columns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParentLink:
    """A child table whose rows belong to a parent row (``child.key = parent.references``)."""

    table: str
    key: str
    references: str


@dataclass(frozen=True, slots=True)
class OptOutRule:
    """A member-wide preference row that ``/forget-me`` may keep when the member is opted out."""

    column: str
    keep_clears: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TablePolicy:
    """Everything the registry says about one table."""

    name: str
    holds: str
    guild_column: str | None = None
    parent: ParentLink | None = None
    member_columns: tuple[str, ...] = ()
    excerpt_columns: tuple[str, ...] = ()
    detail_columns: tuple[str, ...] = ()
    timestamp_column: str | None = None
    retention: RetentionRule | None = None
    forget: ForgetAction = "keep"
    anonymise_to: str = "deleted_member"
    clear_on_forget: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    forget_via_parent: str | None = None
    opt_out: OptOutRule | None = None
    include_dm_rows: bool = False
    export: bool = False
    alert_kind: str | None = None
    kept: str | None = None

    @property
    def is_member_wide(self) -> bool:
        """Whether rows belong to a member wherever Heard runs (no guild column and no parent)."""
        return self.guild_column is None and self.parent is None

    def columns_named(self) -> set[str]:
        """Return every column this policy refers to (for the schema check)."""
        names = {*self.member_columns, *self.excerpt_columns, *self.detail_columns}
        for optional in (self.guild_column, self.timestamp_column):
            if optional is not None:
                names.add(optional)
        if self.parent is not None:
            names.add(self.parent.key)
        if self.retention is not None:
            names.update(self.retention.columns)
        for member_column, cleared in self.clear_on_forget.items():
            names.add(member_column)
            names.update(cleared)
        if self.opt_out is not None:
            names.add(self.opt_out.column)
            names.update(self.opt_out.keep_clears)
        return names


@dataclass(frozen=True, slots=True)
class MemberDataRegistry:
    """The parsed ``member_data.toml``: table policies, retention periods and tables without member data."""

    deleted_member_id: int
    periods: Mapping[str, RetentionPeriod]
    tables: Mapping[str, TablePolicy]
    no_member_data: Mapping[str, str]

    def forget_order(self) -> list[TablePolicy]:
        """Return the tables in the order ``/forget-me`` must visit them (children before parents)."""
        return sorted(self.tables.values(), key=lambda policy: (policy.parent is None, policy.name))

    def anonymised_value(self, policy: TablePolicy) -> int | None:
        """Return what a member column becomes when anonymised: the deleted-member id, or NULL."""
        return None if policy.anonymise_to == "null" else self.deleted_member_id

    def guild_scoped(self) -> list[TablePolicy]:
        """Return the tables whose rows belong to a guild (directly or through a parent), children first."""
        return [policy for policy in self.forget_order() if not policy.is_member_wide]

    def period_days(self, period: str, setting_days: Mapping[str, int]) -> int:
        """Return the days of the named retention period."""
        return self.periods[period].resolve(setting_days)


def load_registry(text: str | None = None) -> MemberDataRegistry:
    """Parse the registry (the packaged ``member_data.toml`` unless ``text`` is given) and validate it."""
    if text is None:
        text = resources.files("bot.storage").joinpath(REGISTRY_FILE).read_text(encoding="utf-8")
    data = tomllib.loads(text)
    periods = {name: _period(name, raw) for name, raw in dict(data.get("retention_periods", {})).items()}
    tables = {name: _policy(name, raw, periods) for name, raw in dict(data.get("tables", {})).items()}
    no_member_data = {str(name): str(reason) for name, reason in dict(data.get("no_member_data", {})).items()}
    for name in no_member_data:
        _check_identifier(name, "no_member_data")
        if name in tables:
            raise RegistryError(f"table {name!r} is both in [tables] and in [no_member_data]")
    for policy in tables.values():
        if policy.parent is not None and policy.parent.table not in tables:
            raise RegistryError(f"table {policy.name!r}: parent {policy.parent.table!r} is not registered")
        if policy.forget_via_parent is not None:
            if policy.parent is None:
                raise RegistryError(f"table {policy.name!r}: forget_via_parent needs a parent")
            parent = tables[policy.parent.table]
            if policy.forget_via_parent not in parent.member_columns:
                raise RegistryError(
                    f"table {policy.name!r}: forget_via_parent {policy.forget_via_parent!r} is not a member "
                    f"column of {parent.name!r}"
                )
    return MemberDataRegistry(
        deleted_member_id=int(data.get("deleted_member_id", 0)),
        periods=MappingProxyType(periods),
        tables=MappingProxyType(tables),
        no_member_data=MappingProxyType(no_member_data),
    )


def _check_identifier(name: str, where: str) -> str:
    """Return ``name`` if it is a plain SQL identifier, else raise naming ``where``."""
    if not isinstance(name, str) or not IDENTIFIER.match(name):
        raise RegistryError(f"{where}: {name!r} is not a plain lower-case SQL name")
    return name


def _names(raw: Any, where: str) -> tuple[str, ...]:
    """Return a tuple of validated identifiers from a TOML list."""
    if not isinstance(raw, list):
        raise RegistryError(f"{where}: expected a list of column names")
    return tuple(_check_identifier(item, where) for item in raw)


def _period(name: str, raw: Any) -> RetentionPeriod:
    """Parse one ``[retention_periods]`` entry."""
    if not isinstance(raw, dict) or len(raw) != 1 or not ({"setting", "days"} & set(raw)):
        raise RegistryError(f"retention period {name!r}: give exactly one of setting = ... or days = ...")
    if "days" in raw:
        days = raw["days"]
        if not isinstance(days, int) or days < 1:
            raise RegistryError(f"retention period {name!r}: days must be a positive whole number")
        return RetentionPeriod(name=name, days=days)
    return RetentionPeriod(name=name, setting=_check_identifier(raw["setting"], f"period {name}"))


def _policy(name: str, raw: Any, periods: Mapping[str, RetentionPeriod]) -> TablePolicy:
    """Parse and check one ``[tables.NAME]`` entry."""
    _check_identifier(name, "tables")
    where = f"table {name!r}"
    if not isinstance(raw, dict):
        raise RegistryError(f"{where}: expected a table of settings")
    unknown = set(raw) - TABLE_KEYS
    if unknown:
        raise RegistryError(f"{where}: unknown keys {sorted(unknown)}")
    if "holds" not in raw or "member_columns" not in raw:
        raise RegistryError(f"{where}: 'holds' and 'member_columns' are required")
    retention = None
    if "retention" in raw:
        rule = raw["retention"]
        if rule.get("period") not in periods or rule.get("action") not in RETENTION_ACTIONS:
            raise RegistryError(f"{where}: retention needs a known period and action delete|clear")
        columns = _names(rule.get("columns", []), f"{where} retention")
        if (rule["action"] == "clear") != bool(columns):
            raise RegistryError(f"{where}: retention 'clear' needs columns, 'delete' takes none")
        retention = RetentionRule(period=rule["period"], action=rule["action"], columns=columns)
        if "timestamp_column" not in raw:
            raise RegistryError(f"{where}: retention needs a timestamp_column")
    forget = raw.get("forget", "keep")
    if forget not in FORGET_ACTIONS:
        raise RegistryError(f"{where}: forget must be one of {', '.join(FORGET_ACTIONS)}")
    member_columns = _names(raw["member_columns"], f"{where} member_columns")
    if forget != "keep" and not member_columns:
        raise RegistryError(f"{where}: forget = {forget!r} needs member columns")
    if forget == "keep" and member_columns:
        raise RegistryError(f"{where}: member columns need forget = 'delete' or 'anonymise'")
    anonymise_to = raw.get("anonymise_to", "deleted_member")
    if anonymise_to not in ("deleted_member", "null"):
        raise RegistryError(f"{where}: anonymise_to must be 'deleted_member' or 'null'")
    parent = None
    if "parent" in raw:
        link = raw["parent"]
        parent = ParentLink(
            table=_check_identifier(link.get("table"), f"{where} parent"),
            key=_check_identifier(link.get("key"), f"{where} parent"),
            references=_check_identifier(link.get("references"), f"{where} parent"),
        )
    guild_column = raw.get("guild_column")
    if guild_column is not None:
        _check_identifier(guild_column, f"{where} guild_column")
    if guild_column is not None and parent is not None:
        raise RegistryError(f"{where}: give a guild_column or a parent, not both")
    opt_out = None
    if "opt_out" in raw:
        opt_out = OptOutRule(
            column=_check_identifier(raw["opt_out"].get("column"), f"{where} opt_out"),
            keep_clears=_names(raw["opt_out"].get("keep_clears", []), f"{where} opt_out"),
        )
    clear_on_forget = {
        _check_identifier(column, f"{where} clear_on_forget"): _names(cleared, f"{where} clear_on_forget")
        for column, cleared in dict(raw.get("clear_on_forget", {})).items()
    }
    for column in clear_on_forget:
        if column not in member_columns:
            raise RegistryError(f"{where}: clear_on_forget key {column!r} is not a member column")
    timestamp = raw.get("timestamp_column")
    return TablePolicy(
        name=name,
        holds=str(raw["holds"]),
        guild_column=guild_column,
        parent=parent,
        member_columns=member_columns,
        excerpt_columns=_names(raw.get("excerpt_columns", []), f"{where} excerpt_columns"),
        detail_columns=_names(raw.get("detail_columns", []), f"{where} detail_columns"),
        timestamp_column=_check_identifier(timestamp, f"{where} timestamp_column") if timestamp else None,
        retention=retention,
        forget=forget,
        anonymise_to=anonymise_to,
        clear_on_forget=MappingProxyType(clear_on_forget),
        forget_via_parent=raw.get("forget_via_parent"),
        opt_out=opt_out,
        include_dm_rows=bool(raw.get("include_dm_rows", False)),
        export=bool(raw.get("export", False)),
        alert_kind=_alert_kind(raw.get("alert_kind"), where),
        kept=str(raw["kept"]) if "kept" in raw else None,
    )


def _alert_kind(raw: Any, where: str) -> str | None:
    """Check the kind of posted moderator alert a table's rows are shown in (``flag`` or ``crisis``)."""
    if raw is None:
        return None
    if raw not in ALERT_KINDS:
        raise RegistryError(f"{where}: alert_kind must be one of {', '.join(ALERT_KINDS)}")
    return str(raw)


@dataclass(frozen=True, slots=True)
class PendingGuildDeletion:
    """A guild Heard was removed from, and when its data will be deleted."""

    guild_id: int
    removed_at: str
    delete_after: str


@dataclass(frozen=True, slots=True)
class RetentionRun:
    """One recorded retention run (counts only)."""

    ran_at: str
    rows_purged: int
    guilds_deleted: int


class PrivacyRepository:
    """Executes the member-data registry: forget a member, purge expired rows, delete and export guilds."""

    def __init__(
        self,
        db: Database,
        *,
        setting_days: Mapping[str, int],
        registry: MemberDataRegistry | None = None,
    ) -> None:
        """Use ``db``; ``setting_days`` gives the day-valued settings the retention periods name."""
        self._db = db
        self._setting_days = dict(setting_days)
        self.registry = registry or load_registry()

    @classmethod
    def from_settings(cls, db: Database, settings: Any) -> PrivacyRepository:
        """Build the repository reading every setting a retention period names from ``settings``."""
        registry = load_registry()
        setting_days = {
            period.setting: int(getattr(settings, period.setting))
            for period in registry.periods.values()
            if period.setting is not None
        }
        return cls(db, setting_days=setting_days, registry=registry)

    def retention_days(self, period: str) -> int:
        """Return the days of a named retention period (``excerpts``, ``nudges``...)."""
        return self.registry.period_days(period, self._setting_days)

    async def prepare(self) -> None:
        """Make SQLite overwrite deleted content instead of leaving it in free pages."""
        await self._db.connection.execute("PRAGMA secure_delete = ON")

    # ----- /forget-me ------------------------------------------------------------------------------

    async def forget_member(self, guild_id: int, user_id: int, *, keep_opt_out: bool) -> dict[str, int]:
        """Delete or anonymise everything stored about ``user_id`` in ``guild_id``, in one transaction.

        Returns rows touched per table (deleted or anonymised, as the registry says; see
        :meth:`describe_forget` for which). Member-wide preference rows are deleted unless
        ``keep_opt_out`` and the member is opted out, in which case only the listed columns are cleared.
        """
        if user_id == self.registry.deleted_member_id:
            raise ValueError("the deleted-member id cannot be forgotten")
        counts: dict[str, int] = {}
        refreshed = 0
        async with self._db.transaction() as connection:
            for policy in self.registry.forget_order():
                if policy.forget_via_parent is not None:
                    counts[policy.name] = await self._forget_via_parent(connection, policy, guild_id, user_id)
                elif policy.forget == "delete":
                    counts[policy.name] = await self._forget_delete(
                        connection, policy, guild_id, user_id, keep_opt_out
                    )
                elif policy.forget == "anonymise":
                    changed_ids = await self._forget_anonymise(connection, policy, guild_id, user_id)
                    counts[policy.name] = len(changed_ids)
                    refreshed += await _refresh_alerts(connection, policy, changed_ids)
        counts[ALERTS_REFRESHED] = refreshed
        return counts

    def describe_forget(self, table: str) -> Literal["deleted", "anonymised", "kept"]:
        """Return what ``/forget-me`` does to the rows it reports for ``table``."""
        policy = self.registry.tables[table]
        if policy.forget_via_parent is not None or policy.forget == "delete":
            return "deleted"
        return "anonymised" if policy.forget == "anonymise" else "kept"

    def _guild_condition(self, policy: TablePolicy, guild_id: int) -> tuple[str, list[Any]]:
        """Return the SQL condition selecting ``guild_id``'s rows of a guild-column table."""
        assert policy.guild_column is not None
        column = _quoted(policy.guild_column)
        if policy.include_dm_rows and guild_id != 0:
            return f"{column} IN (?, 0)", [guild_id]
        return f"{column} = ?", [guild_id]

    def _scope(self, policy: TablePolicy, guild_id: int) -> tuple[str, list[Any]]:
        """Return the condition limiting a table to one guild (a parent's guild for child tables)."""
        if policy.guild_column is not None:
            return self._guild_condition(policy, guild_id)
        if policy.parent is not None:
            parent = self.registry.tables[policy.parent.table]
            condition, params = self._guild_condition(parent, guild_id)
            return (
                f"{_quoted(policy.parent.key)} IN (SELECT {_quoted(policy.parent.references)}"
                f" FROM {_quoted(parent.name)} WHERE {condition})",
                params,
            )
        return "1 = 1", []

    async def _forget_via_parent(
        self, connection: aiosqlite.Connection, policy: TablePolicy, guild_id: int, user_id: int
    ) -> int:
        """Delete child rows whose parent row names the member (before the parent is anonymised)."""
        assert policy.parent is not None and policy.forget_via_parent is not None
        parent = self.registry.tables[policy.parent.table]
        condition, params = self._guild_condition(parent, guild_id)
        cursor = await connection.execute(
            f"DELETE FROM {_quoted(policy.name)} WHERE {_quoted(policy.parent.key)} IN"
            f" (SELECT {_quoted(policy.parent.references)} FROM {_quoted(parent.name)}"
            f" WHERE {condition} AND {_quoted(policy.forget_via_parent)} = ?)",
            [*params, user_id],
        )
        return max(cursor.rowcount, 0)

    async def _forget_delete(
        self,
        connection: aiosqlite.Connection,
        policy: TablePolicy,
        guild_id: int,
        user_id: int,
        keep_opt_out: bool,
    ) -> int:
        """Delete the member's rows (keeping an opted-out preference row if asked)."""
        scope, params = self._scope(policy, guild_id)
        member = " OR ".join(f"{_quoted(column)} = ?" for column in policy.member_columns)
        member_params = [user_id] * len(policy.member_columns)
        where = f"({scope}) AND ({member})"
        if policy.opt_out is not None and keep_opt_out:
            opted_out = f"COALESCE({_quoted(policy.opt_out.column)}, 0) != 0"
            if policy.opt_out.keep_clears:
                assignments = ", ".join(f"{_quoted(column)} = NULL" for column in policy.opt_out.keep_clears)
                await connection.execute(
                    f"UPDATE {_quoted(policy.name)} SET {assignments} WHERE {where} AND {opted_out}",
                    [*params, *member_params],
                )
            where = f"{where} AND NOT ({opted_out})"
        cursor = await connection.execute(
            f"DELETE FROM {_quoted(policy.name)} WHERE {where}", [*params, *member_params]
        )
        return max(cursor.rowcount, 0)

    async def _forget_anonymise(
        self, connection: aiosqlite.Connection, policy: TablePolicy, guild_id: int, user_id: int
    ) -> list[tuple[int, int]]:
        """Replace the member's id by the deleted-member value in each member column.

        Returns ``(guild id, rowid)`` of every row changed.
        """
        scope, params = self._scope(policy, guild_id)
        member = " OR ".join(f"{_quoted(column)} = ?" for column in policy.member_columns)
        member_params = [user_id] * len(policy.member_columns)
        changed = await _row_ids(connection, policy, f"({scope}) AND ({member})", [*params, *member_params])
        replacement = self.registry.anonymised_value(policy)
        for column in policy.member_columns:
            assignments = [f"{_quoted(column)} = ?"]
            assignments += [
                f"{_quoted(cleared)} = NULL" for cleared in policy.clear_on_forget.get(column, ())
            ]
            await connection.execute(
                f"UPDATE {_quoted(policy.name)} SET {', '.join(assignments)}"
                f" WHERE ({scope}) AND {_quoted(column)} = ?",
                [replacement, *params, user_id],
            )
        return changed

    # ----- retention -------------------------------------------------------------------------------

    async def purge_expired(self, now: datetime | None = None) -> dict[str, int]:
        """Apply every retention rule at ``now``: delete old rows or clear their excerpt/detail columns.

        Idempotent: a second run at the same ``now`` changes nothing. Returns rows changed per table.
        """
        moment = now or utc_now()
        counts: dict[str, int] = {}
        refreshed = 0
        async with self._db.transaction() as connection:
            for policy in self.registry.forget_order():
                rule = policy.retention
                if rule is None or policy.timestamp_column is None:
                    continue
                cutoff = iso(moment - timedelta(days=self.retention_days(rule.period)))
                stamp = _quoted(policy.timestamp_column)
                if rule.action == "delete":
                    cursor = await connection.execute(
                        f"DELETE FROM {_quoted(policy.name)} WHERE {stamp} < ?", (cutoff,)
                    )
                    counts[policy.name] = max(cursor.rowcount, 0)
                    continue
                present = " OR ".join(f"{_quoted(column)} IS NOT NULL" for column in rule.columns)
                condition = f"{stamp} < ? AND ({present})"
                changed = await _row_ids(connection, policy, condition, [cutoff])
                assignments = ", ".join(f"{_quoted(column)} = NULL" for column in rule.columns)
                await connection.execute(
                    f"UPDATE {_quoted(policy.name)} SET {assignments} WHERE {condition}", (cutoff,)
                )
                counts[policy.name] = len(changed)
                refreshed += await _refresh_alerts(connection, policy, changed, now=moment)
        counts[ALERTS_REFRESHED] = refreshed
        return counts

    async def record_retention_run(self, now: datetime, *, rows_purged: int, guilds_deleted: int) -> None:
        """Remember that a retention run happened (counts only; the oldest records are trimmed)."""
        async with self._db.transaction() as connection:
            await connection.execute(
                "INSERT INTO retention_run (ran_at, rows_purged, guilds_deleted) VALUES (?, ?, ?)",
                (iso(now), rows_purged, guilds_deleted),
            )
            await connection.execute(
                "DELETE FROM retention_run WHERE id NOT IN"
                " (SELECT id FROM retention_run ORDER BY id DESC LIMIT ?)",
                (RETENTION_RUNS_KEPT,),
            )

    async def last_retention_run(self) -> RetentionRun | None:
        """Return the latest recorded retention run, if any."""
        row = await self._db.fetch_one(
            "SELECT ran_at, rows_purged, guilds_deleted FROM retention_run ORDER BY id DESC LIMIT 1"
        )
        if row is None:
            return None
        return RetentionRun(str(row["ran_at"]), int(row["rows_purged"]), int(row["guilds_deleted"]))

    # ----- leaving a guild -------------------------------------------------------------------------

    async def schedule_guild_deletion(
        self, guild_id: int, *, grace_days: int, now: datetime | None = None
    ) -> PendingGuildDeletion:
        """Schedule the deletion of a guild's data ``grace_days`` after ``now`` (an earlier one stays)."""
        moment = now or utc_now()
        async with self._db.transaction() as connection:
            await connection.execute(
                "INSERT INTO guild_removal (guild_id, removed_at, delete_after) VALUES (?, ?, ?)"
                " ON CONFLICT (guild_id) DO NOTHING",
                (guild_id, iso(moment), iso(moment + timedelta(days=grace_days))),
            )
            cursor = await connection.execute(
                "SELECT guild_id, removed_at, delete_after FROM guild_removal WHERE guild_id = ?", (guild_id,)
            )
            row = await cursor.fetchone()
            await cursor.close()
        assert row is not None
        return PendingGuildDeletion(int(row["guild_id"]), str(row["removed_at"]), str(row["delete_after"]))

    async def cancel_guild_deletion(self, guild_id: int) -> bool:
        """Cancel a scheduled deletion (Heard was added back); return whether one was pending."""
        result = await self._db.execute("DELETE FROM guild_removal WHERE guild_id = ?", (guild_id,))
        return result.rowcount > 0

    async def pending_guild_deletions(self) -> list[PendingGuildDeletion]:
        """Return every scheduled guild deletion, soonest first."""
        rows = await self._db.fetch_all(
            "SELECT guild_id, removed_at, delete_after FROM guild_removal ORDER BY delete_after, guild_id"
        )
        return [
            PendingGuildDeletion(int(row["guild_id"]), str(row["removed_at"]), str(row["delete_after"]))
            for row in rows
        ]

    async def delete_guild_data(self, guild_id: int) -> dict[str, int]:
        """Delete every row of every guild-scoped table for ``guild_id`` in one transaction."""
        if guild_id == 0:
            raise ValueError("guild id 0 marks direct messages, not a guild")
        counts: dict[str, int] = {}
        async with self._db.transaction() as connection:
            for policy in self.registry.guild_scoped():
                condition, params = self._scope_exact(policy, guild_id)
                cursor = await connection.execute(
                    f"DELETE FROM {_quoted(policy.name)} WHERE {condition}", params
                )
                counts[policy.name] = max(cursor.rowcount, 0)
        return counts

    def _scope_exact(self, policy: TablePolicy, guild_id: int) -> tuple[str, list[Any]]:
        """Like :meth:`_scope` but never widened to DM rows (guild 0)."""
        if policy.guild_column is not None:
            return f"{_quoted(policy.guild_column)} = ?", [guild_id]
        assert policy.parent is not None
        parent = self.registry.tables[policy.parent.table]
        assert parent.guild_column is not None
        return (
            f"{_quoted(policy.parent.key)} IN (SELECT {_quoted(policy.parent.references)}"
            f" FROM {_quoted(parent.name)} WHERE {_quoted(parent.guild_column)} = ?)",
            [guild_id],
        )

    async def delete_due_guilds(self, now: datetime | None = None) -> list[int]:
        """Delete the data of every guild whose grace period ended by ``now``; return their ids."""
        moment = now or utc_now()
        rows = await self._db.fetch_all(
            "SELECT guild_id FROM guild_removal WHERE delete_after <= ? ORDER BY guild_id", (iso(moment),)
        )
        deleted: list[int] = []
        for row in rows:
            await self.delete_guild_data(int(row["guild_id"]))
            deleted.append(int(row["guild_id"]))
        return deleted

    async def guild_ids_with_data(self) -> set[int]:
        """Return every guild id that has rows in a guild-column table (not counting removals and DMs)."""
        found: set[int] = set()
        for policy in self.registry.tables.values():
            if policy.guild_column is None or policy.name == "guild_removal":
                continue
            rows = await self._db.fetch_all(
                f"SELECT DISTINCT {_quoted(policy.guild_column)} AS guild_id FROM {_quoted(policy.name)}"
            )
            found.update(int(row["guild_id"]) for row in rows if row["guild_id"])
        return found

    # ----- export ----------------------------------------------------------------------------------

    async def export_guild(self, guild_id: int, *, now: datetime | None = None) -> dict[str, Any]:
        """Return the guild's configuration and flag audit as JSON-ready data, never any message text.

        Every exported table loses its excerpt columns; ids are written as strings (JavaScript-safe).
        """
        tables: dict[str, list[dict[str, Any]]] = {}
        for policy in sorted(self.registry.tables.values(), key=lambda item: item.name):
            if not policy.export:
                continue
            condition, params = self._scope_exact(policy, guild_id)
            rows = await self._db.fetch_all(f"SELECT * FROM {_quoted(policy.name)} WHERE {condition}", params)
            tables[policy.name] = [_export_row(policy, row) for row in rows]
        return {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "guild_id": str(guild_id),
            "exported_at": iso(now or utc_now()),
            "deleted_member_id": str(self.registry.deleted_member_id),
            "note": "Configuration and moderation records only: Heard never stores message text here.",
            "tables": tables,
        }


async def _row_ids(
    connection: aiosqlite.Connection, policy: TablePolicy, condition: str, params: list[Any]
) -> list[tuple[int, int]]:
    """Return ``(guild id, rowid)`` of the rows of ``policy``'s table matching ``condition``."""
    guild = _quoted(policy.guild_column) if policy.guild_column else "0"
    cursor = await connection.execute(
        f"SELECT {guild} AS guild_id, rowid AS row_id FROM {_quoted(policy.name)} WHERE {condition}", params
    )
    rows = await cursor.fetchall()
    await cursor.close()
    return [(int(row["guild_id"]), int(row["row_id"])) for row in rows]


async def _refresh_alerts(
    connection: aiosqlite.Connection,
    policy: TablePolicy,
    changed: list[tuple[int, int]],
    *,
    now: datetime | None = None,
) -> int:
    """Queue an edit of the posted moderator alert of every changed row (so Discord shows it too)."""
    if policy.alert_kind is None or not changed:
        return 0
    kind: Any = policy.alert_kind
    cursor = await connection.execute(
        "SELECT ref_id FROM alert_outbox WHERE kind = ? AND operation = 'send' AND state = 'done'", (kind,)
    )
    posted = {int(row[0]) for row in await cursor.fetchall()}
    await cursor.close()
    queued = 0
    for guild_id, row_id in changed:
        if row_id not in posted:  # never posted: the first post will show the current state anyway
            continue
        outbox_id = await enqueue_edit(
            connection, guild_id=guild_id, kind=kind, ref_id=row_id, now=now or utc_now()
        )
        queued += outbox_id is not None
    return queued


def _export_row(policy: TablePolicy, row: aiosqlite.Row) -> dict[str, Any]:
    """Return one row for the export: excerpt columns dropped, Discord ids as strings."""
    out: dict[str, Any] = {}
    id_columns = {*policy.member_columns, *(c for c in [policy.guild_column] if c)}
    for key in row.keys():  # noqa: SIM118 - aiosqlite.Row is not a mapping
        if key in policy.excerpt_columns:
            continue
        value = row[key]
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and (key in id_columns or key.endswith("_id"))
        ):
            out[key] = str(value)
        else:
            out[key] = value
    return out


def what_heard_stores_markdown(
    registry: MemberDataRegistry, setting_days: Mapping[str, int], *, grace_days: int
) -> str:
    """Return the README's "What Heard stores" table, generated from the registry (one row per table)."""
    lines = [
        "| Table | Member ids (columns) | Words a member wrote | Kept | On `/forget-me` | What it holds |",
        "|---|---|---|---|---|---|",
    ]
    for policy in sorted(registry.tables.values(), key=lambda item: item.name):
        members = ", ".join(policy.member_columns) or "none"
        words = ", ".join(policy.excerpt_columns) or "none"
        if policy.kept is not None:
            kept = policy.kept
        elif policy.retention is None:
            kept = (
                "until the member runs `/forget-me`"
                if policy.is_member_wide
                else f"while Heard is in the server; deleted {grace_days} days after it leaves"
            )
        else:
            days = registry.period_days(policy.retention.period, setting_days)
            cleared = ", ".join(policy.retention.columns)
            kept = f"{cleared} cleared after {days} days" if cleared else f"deleted after {days} days"
            kept += f" (all of it {grace_days} days after Heard leaves the server)"
        if policy.forget_via_parent is not None:
            forget = "deleted (rows of the member's flags)"
        elif policy.forget == "delete":
            forget = "deleted" + (" (kept if the member keeps their opt-out)" if policy.opt_out else "")
        elif policy.forget == "anonymise":
            target = (
                "NULL" if policy.anonymise_to == "null" else f"{registry.deleted_member_id} (deleted member)"
            )
            forget = f"member ids set to {target}"
        else:
            forget = "nothing to do"
        lines.append(f"| `{policy.name}` | {members} | {words} | {kept} | {forget} | {policy.holds} |")
    for name, reason in sorted(registry.no_member_data.items()):
        lines.append(f"| `{name}` | none | none | — | nothing to do | {reason} |")
    return "\n".join(lines)

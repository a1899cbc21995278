"""The :class:`Sandbox`: a local Discord-compatible server (REST + gateway on one port) and its test driver.

It knows Discord's protocol and nothing of any particular bot. Point discord.py at it with
:func:`bot.sandbox.client.point_discord_py_at`, then drive members, slash commands and clicks from tests.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import socket
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.sandbox import permissions as perms
from bot.sandbox.commands import CommandStore
from bot.sandbox.faults import FaultPlan
from bot.sandbox.gateway import GatewayHub
from bot.sandbox.interactions import InteractionFactory
from bot.sandbox.records import (
    DEFAULT_TIMEOUT,
    CallRecord,
    ChangeNotifier,
    FileRecord,
    InteractionRecord,
    SandboxEvent,
    SandboxTimeout,
)
from bot.sandbox.rest import API_PREFIX, RestApi
from bot.sandbox.world import (
    GUILD_FORUM,
    AttachmentFile,
    ChannelRecord,
    GuildRecord,
    MessageRecord,
    Payload,
    SandboxError,
    UserRecord,
    World,
)

log = logging.getLogger(__name__)

Observer = Callable[[SandboxEvent], None]


@dataclass(frozen=True)
class Checkpoint:
    """A point in the sandbox's history: waits with ``since=`` only look at what came after it."""

    message_serial: int
    call_serial: int


class Sandbox:
    """A fake Discord on 127.0.0.1: REST under ``/api/v10``, the gateway at ``/``, one random port."""

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_name: str = "Sandbox Bot",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token or f"sandbox.{secrets.token_urlsafe(24)}"
        self.host = host
        self.port = port
        self.notifier = ChangeNotifier()
        self._observers: list[Observer] = []
        self.world = World(bot_name=bot_name)
        self.faults = FaultPlan()
        self.commands = CommandStore(
            application_id=self.world.application_id, new_id=self.world.snowflakes.next
        )
        self.interactions: dict[int, InteractionRecord] = {}
        self.hub = GatewayHub(
            world=self.world,
            token=self.token,
            gateway_url=lambda: self.gateway_url,
            notifier=self.notifier,
            observe=self._observe,
        )
        self.world.emit = self.hub.dispatch
        self.rest = RestApi(
            world=self.world,
            hub=self.hub,
            faults=self.faults,
            commands=self.commands,
            notifier=self.notifier,
            observe=self._observe,
            token=self.token,
            origin=lambda: self.origin,
            interactions=self.interactions,
        )
        self._factory = InteractionFactory(world=self.world, commands=self.commands, upload=self._upload)
        self._runner: web.AppRunner | None = None
        self._uploads: list[AttachmentFile] = []
        self._checkpoint = Checkpoint(0, 0)
        self._drop_serial = 0

    # ------------------------------------------------------------------------------ lifecycle
    @classmethod
    async def start(cls, **options: Any) -> Sandbox:
        """Create a sandbox and start serving on a free port."""
        sandbox = cls(**options)
        await sandbox._serve()
        return sandbox

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, **options: Any) -> AsyncIterator[Sandbox]:
        """``async with Sandbox.running() as sandbox:`` — started on entry, stopped on exit."""
        sandbox = await cls.start(**options)
        try:
            yield sandbox
        finally:
            await sandbox.stop()

    async def _serve(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self.rest.handle)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._serve_attachment)
        app.router.add_get("/", self.hub.handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((self.host, self.port))
        self.port = int(sock.getsockname()[1])
        await web.SockSite(self._runner, sock).start()
        self._observe(SandboxEvent("note", f"sandbox listening on {self.origin}"))

    async def stop(self) -> None:
        """Close every gateway connection and stop the server."""
        await self.hub.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _upload(self, channel_id: int, filename: str, data: bytes) -> Payload:
        """Store a file a member attached to a slash command option; return its attachment payload."""
        upload = FileRecord(field_name="files[0]", filename=filename, content_type=None, data=data)
        attachments, stored = self.rest.build_attachments(channel_id, {}, [upload])
        self._uploads.extend(stored)
        return attachments[0]

    async def _serve_attachment(self, request: web.Request) -> web.StreamResponse:
        attachment_id = int(request.match_info["attachment_id"])
        stored_files = [*self._uploads, *(f for m in self.world.messages.values() for f in m.files)]
        for stored in stored_files:
            if stored.id == attachment_id:
                return web.Response(
                    body=stored.data, content_type=stored.content_type or "application/octet-stream"
                )
        return web.Response(status=404)

    # ---------------------------------------------------------------------------- addresses
    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """The value for ``discord.http.Route.BASE``."""
        return self.origin + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """The value for ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``."""
        return f"ws://{self.host}:{self.port}/"

    @property
    def application_id(self) -> int:
        """The bot's application id (equal to the bot user's id, as on Discord)."""
        return self.world.application_id

    @property
    def bot_user(self) -> UserRecord:
        """The bot's user record."""
        return self.world.bot_user

    @property
    def calls(self) -> list[CallRecord]:
        """Every REST call so far, in order."""
        return self.rest.calls

    @property
    def internal_errors(self) -> list[Exception]:
        """Exceptions raised inside the sandbox itself (bugs); REST answered them with a 400 explaining so."""
        return self.rest.internal_errors + self.hub.internal_errors

    def env_for_subprocess(self, prefix: str = "") -> dict[str, str]:
        """Environment variables a subprocess bot needs: ``{prefix}DISCORD_TOKEN/_API_BASE/_GATEWAY_URL``."""
        return {
            f"{prefix}DISCORD_TOKEN": self.token,
            f"{prefix}DISCORD_API_BASE": self.api_base,
            f"{prefix}DISCORD_GATEWAY_URL": self.gateway_url,
        }

    # ----------------------------------------------------------------------------- observers
    def on_event(self, callback: Observer) -> Callable[[], None]:
        """Call ``callback(SandboxEvent)`` for every REST call and gateway frame; returns an unsubscribe."""
        self._observers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._observers.remove(callback)

        return unsubscribe

    def _observe(self, event: SandboxEvent) -> None:
        for callback in list(self._observers):
            try:
                callback(event)
            except Exception:
                log.exception("sandbox observer failed")

    # ---------------------------------------------------------------------------- checkpoints
    def mark(self) -> Checkpoint:
        """A checkpoint of "now": pass it as ``since=`` to only wait on later messages/calls."""
        return Checkpoint(self.world.next_message_serial() - 1, len(self.rest.calls))

    def _begin_action(self) -> None:
        self._checkpoint = self.mark()

    async def _flush(self, timeout: float = DEFAULT_TIMEOUT) -> None:  # noqa: ASYNC109
        """Wait until every queued gateway frame has been written to the live connections."""
        await self.notifier.wait_for(self.hub.flushed, timeout=timeout, what="gateway frames to be sent")

    # ---------------------------------------------------------------------------------- waits
    async def wait_until_connected(self, timeout: float = DEFAULT_TIMEOUT) -> None:  # noqa: ASYNC109
        """Wait until a client has identified (or resumed) and received READY and its GUILD_CREATEs."""
        await self.notifier.wait_for(
            lambda: bool(self.hub.ready_connections()) and self.hub.flushed(),
            timeout=timeout,
            what="a client to connect to the gateway",
        )

    async def wait_until_synced(self, timeout: float = DEFAULT_TIMEOUT) -> None:  # noqa: ASYNC109
        """Wait until the bot bulk-synced application commands at least once."""
        await self.notifier.wait_for(
            lambda: self.commands.sync_count > 0,
            timeout=timeout,
            what="the bot to sync its application commands",
        )

    async def wait_for_message(
        self,
        check: Callable[[MessageRecord], bool] = lambda m: True,
        *,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
        since: Checkpoint | None = None,
    ) -> MessageRecord:
        """Wait for a message the bot created (channel, DM, interaction response or follow-up).

        Only messages created after ``since`` count (default: the start of the latest driver action such as
        ``member_says`` or ``slash``); the predicate sees the current state, edits applied.
        """
        after = (since or self._checkpoint).message_serial
        bot_id = self.world.bot_user.id

        def found() -> MessageRecord | None:
            for message in self.world.messages.values():
                if message.serial > after and message.author_id == bot_id and check(message):
                    return message
            return None

        try:
            return await self.notifier.wait_for(
                found, timeout=timeout, what="a bot message matching the predicate"
            )
        except SandboxTimeout as error:
            raise SandboxTimeout(f"{error}\n{self.recent_activity(since or self._checkpoint)}") from None

    async def wait_for_call(
        self,
        check: Callable[[CallRecord], bool] = lambda c: True,
        *,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
        since: Checkpoint | None = None,
    ) -> CallRecord:
        """Wait for a REST call matching ``check`` after ``since`` (default: the latest driver action)."""
        after = (since or self._checkpoint).call_serial

        def found() -> CallRecord | None:
            return next((call for call in self.rest.calls[after:] if check(call)), None)

        try:
            return await self.notifier.wait_for(
                found, timeout=timeout, what="a REST call matching the predicate"
            )
        except SandboxTimeout as error:
            raise SandboxTimeout(f"{error}\n{self.recent_activity(since or self._checkpoint)}") from None

    def recent_activity(self, since: Checkpoint | None = None, *, limit: int = 15) -> str:
        """A readable summary of the REST calls and bot messages after ``since`` (for failure messages)."""
        checkpoint = since or self._checkpoint
        lines = ["REST calls since then:"]
        for call in self.rest.calls[checkpoint.call_serial :][-limit:]:
            detail = ""
            if call.status >= 400 and isinstance(call.response, dict):
                detail = f"  ({call.response.get('code')}: {call.response.get('message')})"
            lines.append(f"  {call.method} {call.route or call.path} -> {call.status}{detail}")
        if len(lines) == 1:
            lines.append("  (none)")
        lines.append("bot messages since then:")
        bot_id = self.world.bot_user.id
        recent = [
            m
            for m in self.world.messages.values()
            if m.serial > checkpoint.message_serial and m.author_id == bot_id
        ]
        for message in recent[-limit:]:
            channel = self.world.channels.get(message.channel_id)
            where = "DM" if channel is None or channel.is_dm else f"#{channel.name}"
            flags = " ephemeral" if message.ephemeral else ""
            text = " ".join(message.text().split())[:80]
            lines.append(f"  {message.id} in {where}{flags}: {text!r}")
        if not recent:
            lines.append("  (none)")
        return "\n".join(lines)

    def messages_in(self, channel: ChannelRecord | int) -> list[MessageRecord]:
        """Current messages of a channel or thread (edits and deletes applied; ephemeral ones excluded)."""
        return self.world.messages_in(channel)

    def dms_to(self, user: UserRecord | int) -> list[MessageRecord]:
        """The bot's current DMs to a user (edits and deletes applied)."""
        channel = self.world.dm_channel_for(user)
        return [m for m in self.world.messages_in(channel) if m.author_id == self.world.bot_user.id]

    # ----------------------------------------------------------------------------- resilience
    async def drop_gateway(self, close_code: int = 4000) -> None:
        """Close the bot's gateway connection(s); it should reconnect and RESUME (events are kept)."""
        self._drop_serial = self.hub.connection_serial
        await self.hub.drop(close_code)

    async def wait_until_reconnected(self, timeout: float = DEFAULT_TIMEOUT) -> str:  # noqa: ASYNC109
        """After :meth:`drop_gateway` / :meth:`send_reconnect` / :meth:`invalidate_session`: wait for a new
        connection to be READY or RESUMED (and flushed); return ``"RESUME"`` or ``"IDENTIFY"``."""

        def reconnected() -> str | None:
            fresh = self.hub.ready_connections(after_serial=self._drop_serial)
            return fresh[-1].how if fresh and self.hub.flushed() else None

        return await self.notifier.wait_for(
            reconnected, timeout=timeout, what="the client to reconnect (RESUME or IDENTIFY)"
        )

    def send_reconnect(self) -> None:
        """Send op 7 RECONNECT: the client should close and RESUME."""
        self._drop_serial = self.hub.connection_serial
        self.hub.send_reconnect()

    def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; with ``resumable=False`` the client must IDENTIFY again."""
        self._drop_serial = self.hub.connection_serial
        self.hub.invalidate_sessions(resumable=resumable)

    # --------------------------------------------------------------------------- member actions
    def _check_member_can_post(self, user: UserRecord, channel: ChannelRecord) -> None:
        if channel.is_dm:
            return
        if channel.type == GUILD_FORUM:
            raise SandboxError("members post in a forum by starting a thread: use start_thread()")
        member = self.world.member(channel.guild_id or 0, user)
        if member is None:
            raise SandboxError(f"{user.name} is not a member of that guild")
        needed = perms.VIEW_CHANNEL | (
            perms.SEND_MESSAGES_IN_THREADS if channel.is_thread else perms.SEND_MESSAGES
        )
        if self.world.permissions_for(user, channel) & needed != needed:
            raise SandboxError(f"{user.name} cannot post in #{channel.name} (missing permissions)")

    async def member_says(
        self,
        user: UserRecord,
        channel: ChannelRecord | int,
        text: str,
        *,
        reply_to: MessageRecord | int | None = None,
        thread: ChannelRecord | None = None,
        embeds: Sequence[Payload] = (),
        files: Sequence[tuple[str, bytes]] = (),
        message_id: int | None = None,
    ) -> MessageRecord:
        """A member posts ``text`` in a channel (or ``thread``), maybe as a reply; emits MESSAGE_CREATE."""
        self._begin_action()
        target = self.world.channel(thread if thread is not None else channel)
        self._check_member_can_post(user, target)
        _check_member_text(text, has_extras=bool(files or embeds))
        replied = None if reply_to is None else self.world.message(reply_to)
        uploads = [
            FileRecord(field_name=f"files[{index}]", filename=name, content_type=None, data=data)
            for index, (name, data) in enumerate(files)
        ]
        attachments, stored = self.rest.build_attachments(target.id, {}, uploads)
        message = self.world.store_message(
            channel=target,
            author=user,
            content=text,
            embeds=embeds,
            attachments=attachments,
            files=stored,
            reply_to=replied,
            message_id=message_id,
        )
        self.hub.dispatch("MESSAGE_CREATE", message.payload, message.guild_id, message.channel_id)
        await self._flush()
        return message

    async def dm_bot(self, user: UserRecord, text: str) -> MessageRecord:
        """A member sends the bot a direct message; emits MESSAGE_CREATE without guild_id."""
        self._begin_action()
        _check_member_text(text, has_extras=False)
        channel = self.world.dm_channel_for(user)
        message = self.world.store_message(channel=channel, author=user, content=text)
        self.hub.dispatch("MESSAGE_CREATE", message.payload, None, channel.id)
        await self._flush()
        return message

    async def start_thread(
        self, user: UserRecord, parent: ChannelRecord, title: str, first_message: str
    ) -> ChannelRecord:
        """A member starts a thread (forum post or text-channel thread): THREAD_CREATE, then MESSAGE_CREATE.

        In a forum the first message's id equals the thread id, as on Discord.
        """
        self._begin_action()
        parent_record = self.world.channel(parent)
        _check_member_text(first_message, has_extras=False)
        if self.world.member(parent_record.guild_id or 0, user) is None:
            raise SandboxError(f"{user.name} is not a member of that guild")
        thread = self.world.add_thread(parent_record, title, owner=user)
        message_id = thread.id if parent_record.type == GUILD_FORUM else None
        message = self.world.store_message(
            channel=thread, author=user, content=first_message, message_id=message_id
        )
        self.hub.dispatch("MESSAGE_CREATE", message.payload, message.guild_id, thread.id)
        await self._flush()
        return thread

    async def edit_message(self, message: MessageRecord | int, content: str) -> MessageRecord:
        """The author edits a message; emits MESSAGE_UPDATE."""
        self._begin_action()
        record = self.world.message(message)
        if record.deleted:
            raise SandboxError("cannot edit a deleted message")
        _check_member_text(content, has_extras=bool(record.attachments or record.embeds))
        self.world.edit_message_payload(record, {"content": content})
        if not record.ephemeral:
            self.hub.dispatch("MESSAGE_UPDATE", record.payload, record.guild_id, record.channel_id)
        await self._flush()
        return record

    async def delete_message(self, message: MessageRecord | int) -> None:
        """A message is deleted (by its author or a moderator); emits MESSAGE_DELETE."""
        self._begin_action()
        self.rest.delete_stored(self.world.message(message))
        await self._flush()

    # ---------------------------------------------------------------------------- interactions
    async def _send_interaction(self, payload: Payload) -> InteractionRecord:
        record = InteractionRecord(payload=payload, world=self.world, notifier=self.notifier)
        checkpoint = self._checkpoint
        record.explain = lambda: self.recent_activity(checkpoint)
        self.interactions[record.id] = record
        guild_id = int(payload["guild_id"]) if payload.get("guild_id") else None
        self.hub.dispatch("INTERACTION_CREATE", payload, guild_id, None)
        await self._flush()
        return record

    async def slash(
        self,
        user: UserRecord,
        guild: GuildRecord | None,
        command: str,
        *,
        in_channel: ChannelRecord | None = None,
        force: bool = False,
        options: Mapping[str, Any] | None = None,
        **named_options: Any,
    ) -> InteractionRecord:
        """Run ``/command`` ("group sub" or "group.sub") as ``user``; option types follow the synced schema.

        Options are keyword arguments (or ``options={...}`` for names that are not identifiers). The
        interaction happens in ``in_channel`` (default: the first text channel the user can see; a DM when
        ``guild`` is None). Raises SandboxError if the command was not synced or Discord's client would not
        allow the input (missing required option, bad choice, ``default_member_permissions``; ``force=True``
        skips the permission check).
        """
        self._begin_action()
        merged = dict(options or {}) | named_options
        payload = self._factory.slash(user, guild, command, merged, channel=in_channel, force=force)
        return await self._send_interaction(payload)

    async def autocomplete(
        self,
        user: UserRecord,
        guild: GuildRecord | None,
        command: str,
        *,
        focused: str,
        in_channel: ChannelRecord | None = None,
        options: Mapping[str, Any] | None = None,
        **named_options: Any,
    ) -> InteractionRecord:
        """Type into option ``focused`` of ``/command`` (its value = the partial text); the bot answers with
        choices: ``(await ix.response()).choices``."""
        self._begin_action()
        merged = dict(options or {}) | named_options
        payload = self._factory.slash(
            user, guild, command, merged, channel=in_channel, force=True, focused=focused
        )
        return await self._send_interaction(payload)

    async def user_menu(
        self,
        user: UserRecord,
        guild: GuildRecord,
        name: str,
        target: UserRecord,
        *,
        in_channel: ChannelRecord | None = None,
        force: bool = False,
    ) -> InteractionRecord:
        """Use the user context-menu command ``name`` on ``target``."""
        self._begin_action()
        payload = self._factory.user_menu(user, guild, name, target, channel=in_channel, force=force)
        return await self._send_interaction(payload)

    async def message_menu(
        self,
        user: UserRecord,
        guild: GuildRecord | None,
        name: str,
        message: MessageRecord | int,
        *,
        force: bool = False,
    ) -> InteractionRecord:
        """Use the message context-menu command ``name`` on ``message``."""
        self._begin_action()
        payload = self._factory.message_menu(user, guild, name, self.world.message(message), force=force)
        return await self._send_interaction(payload)

    async def click(
        self,
        user: UserRecord,
        message: MessageRecord | int,
        custom_id: str,
        *,
        values: Sequence[Any] | None = None,
    ) -> InteractionRecord:
        """Click a button (or choose select ``values``) on a bot message, as ``user``.

        String selects take option values; user/role/channel/mentionable selects take records.
        """
        self._begin_action()
        payload = self._factory.click(user, self.world.message(message), custom_id, values)
        return await self._send_interaction(payload)

    async def submit_modal(
        self,
        user: UserRecord,
        opened_by: InteractionRecord,
        values: Mapping[str, Any],
        *,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> InteractionRecord:
        """Fill and submit the modal the bot opened in answer to ``opened_by`` (waits for that modal)."""
        modal = await opened_by.modal(timeout=timeout)
        self._begin_action()
        payload = self._factory.modal_submit(user, opened_by.payload, modal.data, values)
        return await self._send_interaction(payload)


MEMBER_TEXT_LIMIT = 4000
"""The longest message a (Nitro) member can send."""


def _check_member_text(text: str, *, has_extras: bool) -> None:
    """Refuse what Discord's client would not send: an empty message or one over 4,000 characters."""
    if len(text) > MEMBER_TEXT_LIMIT:
        raise SandboxError(f"members cannot send more than {MEMBER_TEXT_LIMIT} characters (got {len(text)})")
    if not text.strip() and not has_extras:
        raise SandboxError("Discord's client does not send an empty message")

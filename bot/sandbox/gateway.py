"""The gateway (websocket) side of the sandbox: sessions, intents, sequence numbers, RESUME replay.

One :class:`GatewayHub` serves every connection. Each IDENTIFY creates a :class:`GatewaySession` which keeps
every dispatched frame, so a client that RESUMEs after a dropped connection receives what it missed.
Frames are plain JSON text (discord.py only decompresses binary frames).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from aiohttp import WSMsgType, web

from bot.sandbox.records import ChangeNotifier, SandboxEvent
from bot.sandbox.world import Payload, World

log = logging.getLogger(__name__)

INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_GUILD_MESSAGE_REACTIONS = 1 << 10
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE = 3
OP_VOICE_STATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

HEARTBEAT_INTERVAL_MS = 41250
SESSION_CLOSING_CODES = frozenset({1000, 1001})
"""Close codes sent by a client that ends its session (any other close keeps the session resumable)."""

GUILD_INTENT_EVENTS: Mapping[str, int] = MappingProxyType(
    {
        "GUILD_CREATE": INTENT_GUILDS,
        "GUILD_UPDATE": INTENT_GUILDS,
        "GUILD_DELETE": INTENT_GUILDS,
        "GUILD_ROLE_CREATE": INTENT_GUILDS,
        "GUILD_ROLE_UPDATE": INTENT_GUILDS,
        "GUILD_ROLE_DELETE": INTENT_GUILDS,
        "CHANNEL_CREATE": INTENT_GUILDS,
        "CHANNEL_UPDATE": INTENT_GUILDS,
        "CHANNEL_DELETE": INTENT_GUILDS,
        "THREAD_CREATE": INTENT_GUILDS,
        "THREAD_UPDATE": INTENT_GUILDS,
        "THREAD_DELETE": INTENT_GUILDS,
        "GUILD_MEMBER_ADD": INTENT_GUILD_MEMBERS,
        "GUILD_MEMBER_UPDATE": INTENT_GUILD_MEMBERS,
        "GUILD_MEMBER_REMOVE": INTENT_GUILD_MEMBERS,
        "MESSAGE_CREATE": INTENT_GUILD_MESSAGES,
        "MESSAGE_UPDATE": INTENT_GUILD_MESSAGES,
        "MESSAGE_DELETE": INTENT_GUILD_MESSAGES,
        "MESSAGE_REACTION_ADD": INTENT_GUILD_MESSAGE_REACTIONS,
    }
)
"""Which intent a guild event needs. Events not listed (READY, INTERACTION_CREATE...) are always sent."""

DM_INTENT_EVENTS: Mapping[str, int] = MappingProxyType(
    {
        "MESSAGE_CREATE": INTENT_DIRECT_MESSAGES,
        "MESSAGE_UPDATE": INTENT_DIRECT_MESSAGES,
        "MESSAGE_DELETE": INTENT_DIRECT_MESSAGES,
    }
)
CHANNEL_GATED_EVENTS = frozenset({"MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE", "THREAD_CREATE"})
CONTENT_FIELDS: Mapping[str, object] = MappingProxyType(
    {"content": "", "embeds": [], "attachments": [], "components": []}
)

Observer = Callable[[SandboxEvent], None]


def _dumps(frame: Payload) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Connection:
    """One websocket connection (a client may make many over a session's life)."""

    serial: int
    ws: web.WebSocketResponse
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    session: GatewaySession | None = None
    ready: bool = False
    closed_by_server: bool = False
    pending: int = 0
    how: str = ""  # "IDENTIFY" or "RESUME" once ready
    writer: asyncio.Task[None] | None = None

    def enqueue(self, frame: Payload) -> None:
        """Queue a frame for sending (in order)."""
        self.pending += 1
        self.queue.put_nowait(_dumps(frame))


@dataclass
class GatewaySession:
    """An identified session: its intents, sequence counter and the frames it was sent."""

    session_id: str
    intents: int
    shard: list[int] | None
    sequence: int = 0
    frames: list[Payload] = field(default_factory=list)
    connection: Connection | None = None

    def push(self, event: str, payload: Payload) -> Payload:
        """Assign the next sequence number to an event, remember it, and send it if connected."""
        self.sequence += 1
        frame = {"op": OP_DISPATCH, "s": self.sequence, "t": event, "d": payload}
        self.frames.append(frame)
        if len(self.frames) > 5000:
            del self.frames[:1000]
        if self.connection is not None:
            self.connection.enqueue(frame)
        return frame


class GatewayHub:
    """Accepts websocket connections and dispatches gateway events to every live session."""

    def __init__(
        self,
        *,
        world: World,
        token: str,
        gateway_url: Callable[[], str],
        notifier: ChangeNotifier,
        observe: Observer,
    ) -> None:
        self._world = world
        self._token = token
        self._gateway_url = gateway_url
        self._notifier = notifier
        self._observe = observe
        self.sessions: dict[str, GatewaySession] = {}
        self.connections: dict[int, Connection] = {}
        self._connection_serial = 0
        self.identify_count = 0
        self.resume_count = 0
        self.received: list[Payload] = []
        self.internal_errors: list[Exception] = []
        self._frozen = False

    # ------------------------------------------------------------------------------ state queries
    @property
    def connection_serial(self) -> int:
        """The serial of the most recent connection (a checkpoint for reconnect waits)."""
        return self._connection_serial

    def ready_connections(self, *, after_serial: int = 0) -> list[Connection]:
        """Connections that completed IDENTIFY or RESUME, optionally only those newer than a checkpoint."""
        return [c for c in self.connections.values() if c.ready and c.serial > after_serial]

    def flushed(self) -> bool:
        """Whether every ready connection has written all its queued frames."""
        return all(c.pending == 0 for c in self.ready_connections())

    # ------------------------------------------------------------------------------- dispatching
    def dispatch(
        self, event: str, payload: Payload, guild_id: int | None = None, channel_id: int | None = None
    ) -> None:
        """Send an event to every session whose intents (and the bot's channel access) allow it."""
        if guild_id is not None and event != "GUILD_DELETE":
            guild = self._world.guilds.get(guild_id)
            if guild is None or not guild.bot_present:
                return
        if event in CHANNEL_GATED_EVENTS and not self._world.bot_can_view(channel_id, guild_id):
            return
        table = GUILD_INTENT_EVENTS if guild_id is not None else DM_INTENT_EVENTS
        needed = table.get(event, 0)
        for session in list(self.sessions.values()):
            if needed and not session.intents & needed:
                continue
            shaped = self._shape(event, payload, session.intents, guild_id)
            self._push(session, event, shaped)
        self._notifier.notify()

    def _push(self, session: GatewaySession, event: str, payload: Payload) -> None:
        frame = session.push(event, payload)
        summary = f"{event} s={frame['s']} {describe_event(self._world, event, payload)}".rstrip()
        self._observe(SandboxEvent("gateway-out", summary, frame))

    def _shape(self, event: str, payload: Payload, intents: int, guild_id: int | None) -> Payload:
        """Return the payload as a client with these intents receives it."""
        shaped = copy.deepcopy(payload)
        if event == "GUILD_CREATE" and not intents & INTENT_GUILD_MEMBERS:
            bot_id = str(self._world.bot_user.id)
            shaped["members"] = [m for m in shaped.get("members", []) if m["user"]["id"] == bot_id]
        message_event = event in ("MESSAGE_CREATE", "MESSAGE_UPDATE")
        if message_event and guild_id is not None and not intents & INTENT_MESSAGE_CONTENT:
            self._strip_content(shaped)
            if isinstance(shaped.get("referenced_message"), dict):
                self._strip_content(shaped["referenced_message"])
        return shaped

    def _strip_content(self, message: Payload) -> None:
        """Blank content fields the way Discord does for apps without the MESSAGE_CONTENT intent."""
        bot_id = str(self._world.bot_user.id)
        if message.get("author", {}).get("id") == bot_id:
            return
        if any(mention.get("id") == bot_id for mention in message.get("mentions", [])):
            return
        for key, empty in CONTENT_FIELDS.items():
            if key in message:
                message[key] = copy.deepcopy(empty)
        message.pop("poll", None)

    # ------------------------------------------------------------------------------- resilience
    async def drop(self, close_code: int = 4000) -> None:
        """Close every live connection with ``close_code``; sessions stay resumable."""
        for connection in list(self.connections.values()):
            connection.ready = False
            connection.closed_by_server = True
            await connection.ws.close(code=close_code, message=b"sandbox dropped the connection")
        self._notifier.notify()

    def send_reconnect(self) -> None:
        """Send op 7 RECONNECT to every live connection (the client should RESUME)."""
        for connection in list(self.connections.values()):
            connection.enqueue({"op": OP_RECONNECT, "d": None})

    def invalidate_sessions(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION to every live connection; non-resumable sessions are forgotten."""
        for connection in list(self.connections.values()):
            connection.enqueue({"op": OP_INVALID_SESSION, "d": resumable})
            if not resumable and connection.session is not None:
                self.sessions.pop(connection.session.session_id, None)
                connection.session.connection = None
                connection.session = None
                connection.ready = False

    async def close_all(self) -> None:
        """Close every connection (sandbox shutdown)."""
        self._frozen = True
        for connection in list(self.connections.values()):
            with contextlib.suppress(Exception):
                await connection.ws.close(code=1001, message=b"sandbox stopping")

    # --------------------------------------------------------------------------------- handling
    async def handle(self, request: web.Request) -> web.StreamResponse:
        """aiohttp handler for the gateway websocket."""
        ws = web.WebSocketResponse(max_msg_size=16 * 1024 * 1024)
        await ws.prepare(request)
        self._connection_serial += 1
        connection = Connection(serial=self._connection_serial, ws=ws)
        self.connections[connection.serial] = connection
        connection.writer = asyncio.create_task(self._write(connection))
        self._observe(
            SandboxEvent("note", f"gateway connection #{connection.serial} opened ({request.query_string})")
        )
        connection.enqueue(
            {
                "op": OP_HELLO,
                "s": None,
                "t": None,
                "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS, "_trace": ["sandbox"]},
            }
        )
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    try:
                        frame = json.loads(message.data)
                    except ValueError:
                        await ws.close(code=4002, message=b"Error while decoding payload.")
                        break
                    try:
                        await self._on_frame(connection, frame)
                    except Exception as error:  # a sandbox bug: keep serving, make it visible
                        log.exception("sandbox gateway failed handling op %s", frame.get("op"))
                        self.internal_errors.append(error)
                elif message.type in (WSMsgType.BINARY, WSMsgType.ERROR):
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
        finally:
            await self._detach(connection)
        return ws

    async def _write(self, connection: Connection) -> None:
        while True:
            text = await connection.queue.get()
            if text is None:
                return
            try:
                await connection.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                connection.pending = 0
                self._notifier.notify()
                return
            connection.pending -= 1
            if connection.pending == 0:
                self._notifier.notify()

    async def _detach(self, connection: Connection) -> None:
        self.connections.pop(connection.serial, None)
        connection.ready = False
        connection.pending = 0
        connection.queue.put_nowait(None)
        session = connection.session
        if session is not None and session.connection is connection:
            session.connection = None
            client_ended = (
                not connection.closed_by_server and connection.ws.close_code in SESSION_CLOSING_CODES
            )
            if client_ended and not self._frozen:
                self.sessions.pop(session.session_id, None)
        self._observe(
            SandboxEvent(
                "note", f"gateway connection #{connection.serial} closed (code {connection.ws.close_code})"
            )
        )
        self._notifier.notify()

    async def _on_frame(self, connection: Connection, frame: Payload) -> None:
        op = frame.get("op")
        data = frame.get("d")
        self.received.append(frame)
        if op != OP_HEARTBEAT:
            self._observe(SandboxEvent("gateway-in", f"op {op}", _redact(frame)))
        if op == OP_HEARTBEAT:
            connection.enqueue({"op": OP_HEARTBEAT_ACK, "s": None, "t": None, "d": None})
        elif op == OP_IDENTIFY:
            await self._identify(connection, data or {})
        elif op == OP_RESUME:
            await self._resume(connection, data or {})
        elif op == OP_REQUEST_GUILD_MEMBERS:
            self._request_members(connection, data or {})
        elif op in (OP_PRESENCE, OP_VOICE_STATE):
            return
        else:
            await connection.ws.close(code=4001, message=b"Unknown opcode.")

    def _token_ok(self, token: Any) -> bool:
        return isinstance(token, str) and token.removeprefix("Bot ").strip() == self._token

    async def _identify(self, connection: Connection, data: Payload) -> None:
        if connection.session is not None:
            await connection.ws.close(code=4005, message=b"Already authenticated.")
            return
        if not self._token_ok(data.get("token")):
            await connection.ws.close(code=4004, message=b"Authentication failed.")
            return
        session = GatewaySession(
            session_id=uuid.uuid4().hex, intents=int(data.get("intents", 0)), shard=data.get("shard")
        )
        self.sessions[session.session_id] = session
        session.connection = connection
        connection.session = session
        self.identify_count += 1
        bot = self._world.bot_user
        ready: Payload = {
            "v": 10,
            "user": bot.payload() | {"verified": True, "mfa_enabled": False, "flags": 0, "email": None},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in self._world.bot_guilds()],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self._gateway_url(),
            "application": {"id": str(self._world.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "auth": {},
            "user_settings": {},
            "_trace": ["sandbox"],
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        self._push(session, "READY", ready)
        if session.intents & INTENT_GUILDS:
            for guild in self._world.bot_guilds():
                payload = self._shape(
                    "GUILD_CREATE", self._world.guild_payload(guild), session.intents, guild.id
                )
                self._push(session, "GUILD_CREATE", payload)
        connection.ready = True
        connection.how = "IDENTIFY"
        self._observe(
            SandboxEvent("note", f"IDENTIFY: session {session.session_id[:8]} intents={session.intents}")
        )
        self._notifier.notify()

    async def _resume(self, connection: Connection, data: Payload) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or not self._token_ok(data.get("token")):
            connection.enqueue({"op": OP_INVALID_SESSION, "s": None, "t": None, "d": False})
            return
        last_seen = int(data.get("seq") or 0)
        if session.connection is not None and session.connection is not connection:
            old = session.connection
            old.session = None
            old.ready = False
            old.closed_by_server = True
            await old.ws.close(code=4000)
        session.connection = connection
        connection.session = session
        for frame in session.frames:
            if frame["s"] > last_seen:
                connection.enqueue(frame)
        self._push(session, "RESUMED", {"_trace": ["sandbox"]})
        connection.ready = True
        connection.how = "RESUME"
        self.resume_count += 1
        self._observe(SandboxEvent("note", f"RESUME: session {session.session_id[:8]} from seq {last_seen}"))
        self._notifier.notify()

    def _request_members(self, connection: Connection, data: Payload) -> None:
        session = connection.session
        if session is None:
            return
        guild = self._world.guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        query = str(data.get("query") or "").lower()
        user_ids = {int(user_id) for user_id in (data.get("user_ids") or [])}
        limit = int(data.get("limit") or 0)
        members = [
            m
            for m in guild.members.values()
            if (not user_ids or m.user.id in user_ids) and m.user.name.lower().startswith(query)
        ]
        if limit:
            members = members[:limit]
        chunk: Payload = {
            "guild_id": str(guild.id),
            "members": [m.payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [str(u) for u in user_ids - {m.user.id for m in members}],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        self._push(session, "GUILD_MEMBERS_CHUNK", chunk)
        self._notifier.notify()


def _clip(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_event(world: World, event: str, payload: Payload) -> str:
    """A short human-readable description of a dispatched event (for the terminal view)."""
    if event in ("MESSAGE_CREATE", "MESSAGE_UPDATE"):
        channel = world.channels.get(int(payload.get("channel_id", 0)))
        where = "DM" if channel is None or channel.is_dm else f"#{channel.name}"
        author = payload.get("author", {}).get("username", "?")
        extras = []
        if payload.get("embeds"):
            extras.append(f"+{len(payload['embeds'])} embed(s)")
        if payload.get("components"):
            extras.append("+buttons")
        text = repr(_clip(str(payload.get("content") or "")))
        return " ".join([f"in {where} by {author}: {text}", *extras])
    if event == "MESSAGE_DELETE":
        return f"message {payload.get('id')}"
    if event == "INTERACTION_CREATE":
        data = payload.get("data") or {}
        user = (payload.get("member") or {}).get("user") or payload.get("user") or {}
        kinds = {2: "command", 3: "component", 4: "autocomplete", 5: "modal submit"}
        label = data.get("name") or data.get("custom_id") or ""
        return f"{kinds.get(payload.get('type', 0), 'interaction')} {label!r} by {user.get('username', '?')}"
    if event in ("GUILD_CREATE", "GUILD_DELETE"):
        return f"guild {payload.get('name') or payload.get('id')}"
    if event in ("CHANNEL_CREATE", "CHANNEL_DELETE", "THREAD_CREATE", "THREAD_DELETE", "CHANNEL_UPDATE"):
        return f"#{payload.get('name') or payload.get('id')}"
    return ""


def _redact(frame: Payload) -> Payload:
    """Copy a client frame with its token hidden (observers may print it)."""
    redacted = copy.deepcopy(frame)
    data = redacted.get("d")
    if isinstance(data, dict) and "token" in data:
        data["token"] = "<redacted>"
    return redacted

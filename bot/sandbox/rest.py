"""The REST side of the sandbox: ``/api/v10/...`` routes with Discord's payloads, errors and checks.

Every call is recorded (:class:`~bot.sandbox.records.CallRecord`); scripted faults are applied before a
handler runs; unknown routes answer Discord's 404 body. Responses carry exactly
``Content-Type: application/json`` (discord.py's ``json_or_text`` needs that).
"""

from __future__ import annotations

import json
import logging
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from aiohttp import BodyPartReader, web

from bot.sandbox import permissions as perms
from bot.sandbox.commands import CommandStore
from bot.sandbox.faults import FaultPlan
from bot.sandbox.gateway import INTENT_MESSAGE_CONTENT, GatewayHub
from bot.sandbox.records import (
    CallbackRecord,
    CallRecord,
    ChangeNotifier,
    FileRecord,
    InteractionRecord,
    SandboxEvent,
)
from bot.sandbox.validation import DiscordError, check_components, check_message, invalid_form
from bot.sandbox.world import (
    EPHEMERAL_FLAG,
    GUILD_FORUM,
    GUILD_TEXT,
    LOADING_FLAG,
    MESSAGE_CHAT_INPUT_COMMAND,
    MESSAGE_CONTEXT_MENU_COMMAND,
    MESSAGE_DEFAULT,
    AttachmentFile,
    ChannelRecord,
    MessageRecord,
    Payload,
    World,
)

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
ALLOWED_SEND_FLAGS = (1 << 2) | (1 << 12) | (1 << 15) | EPHEMERAL_FLAG
JSON_HEADERS: Mapping[str, str] = MappingProxyType({"Content-Type": "application/json"})


@dataclass
class RestRequest:
    """A parsed REST call handed to a route handler."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    json: Any
    files: list[FileRecord] = field(default_factory=list)

    def param(self, name: str) -> int:
        """A numeric route parameter (404 in Discord's format if it is not a snowflake)."""
        try:
            return int(self.params[name])
        except (KeyError, ValueError):
            raise DiscordError(404, 0, "404: Not Found") from None

    def body(self) -> Payload:
        """The JSON object body (or payload_json), ``{}`` when there is none."""
        return self.json if isinstance(self.json, dict) else {}


Handler = Callable[[RestRequest], Awaitable[tuple[int, Any]]]


@dataclass
class Route:
    """A route template compiled to a regex."""

    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Handler


def compile_template(template: str) -> re.Pattern[str]:
    """Turn ``/channels/{channel_id}/messages`` into an anchored regex with named groups."""
    pieces = re.split(r"\{(\w+)\}", template)
    regex = "".join(
        re.escape(piece) if index % 2 == 0 else f"(?P<{piece}>[^/]+)" for index, piece in enumerate(pieces)
    )
    return re.compile(f"^{regex}$")


class RestApi:
    """Answers REST calls against the world; owned by a :class:`~bot.sandbox.server.Sandbox`."""

    def __init__(
        self,
        *,
        world: World,
        hub: GatewayHub,
        faults: FaultPlan,
        commands: CommandStore,
        notifier: ChangeNotifier,
        observe: Callable[[SandboxEvent], None],
        token: str,
        origin: Callable[[], str],
        interactions: dict[int, InteractionRecord],
    ) -> None:
        self.world = world
        self.hub = hub
        self.faults = faults
        self.commands = commands
        self.notifier = notifier
        self.observe = observe
        self.token = token
        self.origin = origin
        self.interactions = interactions
        self.calls: list[CallRecord] = []
        self.internal_errors: list[Exception] = []
        self.routes: list[Route] = []
        self._register_routes()

    # ---------------------------------------------------------------------------- route table
    def _register_routes(self) -> None:
        table: list[tuple[str, str, Handler]] = [
            ("GET", "/users/@me", self.get_me),
            ("GET", "/oauth2/applications/@me", self.get_application),
            ("GET", "/applications/@me", self.get_application),
            ("GET", "/gateway", self.get_gateway),
            ("GET", "/gateway/bot", self.get_gateway_bot),
            ("GET", "/applications/{application_id}/commands", self.list_commands),
            ("PUT", "/applications/{application_id}/commands", self.put_commands),
            ("POST", "/applications/{application_id}/commands", self.post_command),
            ("GET", "/applications/{application_id}/commands/{command_id}", self.get_command),
            ("DELETE", "/applications/{application_id}/commands/{command_id}", self.delete_command),
            ("GET", "/applications/{application_id}/guilds/{guild_id}/commands", self.list_commands),
            ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", self.put_commands),
            ("POST", "/applications/{application_id}/guilds/{guild_id}/commands", self.post_command),
            (
                "GET",
                "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
                self.get_command,
            ),
            (
                "DELETE",
                "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
                self.delete_command,
            ),
            ("POST", "/channels/{channel_id}/messages", self.create_message),
            ("GET", "/channels/{channel_id}/messages", self.list_messages),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self.edit_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message),
            ("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self.add_reaction),
            ("POST", "/channels/{channel_id}/typing", self.typing),
            ("GET", "/channels/{channel_id}", self.get_channel),
            ("POST", "/users/@me/channels", self.create_dm),
            ("DELETE", "/users/@me/guilds/{guild_id}", self.leave_guild),
            ("GET", "/users/{user_id}", self.get_user),
            (
                "POST",
                "/interactions/{interaction_id}/{interaction_token}/callback",
                self.interaction_callback,
            ),
            ("POST", "/webhooks/{application_id}/{interaction_token}", self.create_followup),
            (
                "GET",
                "/webhooks/{application_id}/{interaction_token}/messages/{message_id}",
                self.get_webhook_message,
            ),
            (
                "PATCH",
                "/webhooks/{application_id}/{interaction_token}/messages/{message_id}",
                self.edit_webhook_message,
            ),
            (
                "DELETE",
                "/webhooks/{application_id}/{interaction_token}/messages/{message_id}",
                self.delete_webhook_message,
            ),
            ("GET", "/guilds/{guild_id}", self.get_guild),
            ("GET", "/guilds/{guild_id}/channels", self.get_guild_channels),
            ("GET", "/guilds/{guild_id}/roles", self.get_guild_roles),
            ("GET", "/guilds/{guild_id}/members", self.list_members),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member),
            ("POST", "/channels/{channel_id}/threads", self.create_thread),
            ("POST", "/channels/{channel_id}/messages/{message_id}/threads", self.create_thread_from_message),
            ("PATCH", "/guilds/{guild_id}/members/{user_id}", self.edit_member),
        ]
        self.routes = [
            Route(method, template, compile_template(template), handler)
            for method, template, handler in table
        ]

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """Find the route (and its parameters) for a method and API-relative path."""
        for route in self.routes:
            if route.method != method:
                continue
            found = route.pattern.match(path)
            if found:
                return route, found.groupdict()
        return None

    # ------------------------------------------------------------------------------- handling
    async def handle(self, request: web.Request) -> web.StreamResponse:
        """aiohttp handler for everything under ``/api/v10``."""
        method = request.method.upper()
        path = "/" + request.match_info.get("tail", "")
        query = {key: value for key, value in request.query.items()}
        payload, files = await self._read_body(request)
        matched = self.match(method, path)
        route, params = (matched[0], matched[1]) if matched else (None, {})
        headers: dict[str, str] = {}
        fault = False
        body: Any
        if route is None:
            status, body = 404, {"message": "404: Not Found", "code": 0}
        elif not self._authorised(request, route):
            status, body = 401, {"message": "401: Unauthorized", "code": 0}
        else:
            rule = self.faults.take(method, route.template, params)
            if rule is not None:
                status, body, headers, fault = rule.status, rule.body(), rule.headers(), True
            else:
                try:
                    status, body = await route.handler(
                        RestRequest(method, path, params, query, payload, files)
                    )
                except DiscordError as error:
                    status, body = error.status, error.body()
                except Exception as error:  # a sandbox bug: fail fast and loudly instead of a 500 retry loop
                    log.exception("sandbox REST handler for %s %s failed", method, route.template)
                    self.internal_errors.append(error)
                    status, body = 400, {"message": f"sandbox internal error: {error!r}", "code": 0}
        call = CallRecord(
            method=method,
            path=path,
            route=route.template if route else None,
            params=params,
            query=query,
            json=payload,
            files=files,
            status=status,
            response=body,
            time=time.time(),
            serial=len(self.calls) + 1,
            fault=fault,
        )
        self.calls.append(call)
        summary = f"{method} {path} -> {status}" + (" (scripted fault)" if fault else "")
        self.observe(SandboxEvent("rest", summary, call))
        self.notifier.notify()
        if status == 204 or body is None:
            return web.Response(status=204, headers=headers)
        return web.Response(
            status=status, body=json.dumps(body).encode(), headers={**JSON_HEADERS, **headers}
        )

    def _authorised(self, request: web.Request, route: Route) -> bool:
        if route.template.startswith(("/interactions/", "/webhooks/")):
            return True
        return request.headers.get("Authorization", "") == f"Bot {self.token}"

    async def _read_body(self, request: web.Request) -> tuple[Any, list[FileRecord]]:
        if not request.body_exists:
            return None, []
        if request.content_type.startswith("multipart/"):
            payload: Any = None
            files: list[FileRecord] = []
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader):
                    continue
                name = part.name or ""
                data = await part.read()
                if name == "payload_json":
                    payload = json.loads(bytes(data).decode("utf-8"))
                else:
                    files.append(
                        FileRecord(
                            field_name=name,
                            filename=getattr(part, "filename", None),
                            content_type=part.headers.get("Content-Type"),
                            data=bytes(data),
                        )
                    )
            return payload, files
        raw = await request.read()
        if not raw:
            return None, []
        try:
            return json.loads(raw), []
        except ValueError:
            return raw.decode("utf-8", "replace"), []

    # ------------------------------------------------------------------------------- helpers
    def _channel(self, channel_id: int) -> ChannelRecord:
        channel = self.world.channels.get(channel_id)
        if channel is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        if channel.guild_id is not None and not self.world.guilds[channel.guild_id].bot_present:
            raise DiscordError(403, 50001, "Missing Access")
        return channel

    def _require(self, channel: ChannelRecord, needed: int, *, hidden_code: int = 50001) -> None:
        """403 unless the bot has ``needed`` in ``channel`` (a hidden channel answers ``hidden_code``)."""
        if channel.is_dm:
            return
        have = self.world.bot_permissions_in(channel)
        if not have & perms.VIEW_CHANNEL:
            if hidden_code == 50013:
                raise DiscordError(403, 50013, "Missing Permissions")
            raise DiscordError(403, 50001, "Missing Access")
        if have & needed != needed:
            raise DiscordError(403, 50013, "Missing Permissions")

    def _message_in(self, channel: ChannelRecord, message_id: int) -> MessageRecord:
        message = self.world.messages.get(message_id)
        if message is None or message.deleted or message.ephemeral or message.channel_id != channel.id:
            raise DiscordError(404, 10008, "Unknown Message")
        return message

    def _visible_payload(self, message: MessageRecord) -> Payload:
        """A message payload as the bot may read it over REST (content needs the intent)."""
        sessions = list(self.hub.sessions.values())
        payload = json.loads(json.dumps(message.payload))
        if message.guild_id is not None and sessions and not sessions[-1].intents & INTENT_MESSAGE_CONTENT:
            self.hub._strip_content(payload)
        return payload

    def build_attachments(
        self, channel_id: int, body: Payload, files: Sequence[FileRecord], keep: Sequence[Payload] = ()
    ) -> tuple[list[Payload], list[AttachmentFile]]:
        """Build attachment payloads (and stored bytes) from ``files[n]`` parts and body metadata."""
        described = {
            str(item.get("id")): item for item in body.get("attachments") or [] if isinstance(item, dict)
        }
        payloads: list[Payload] = list(keep)
        stored: list[AttachmentFile] = []
        for position, upload in enumerate(files):
            index = upload.field_name.removeprefix("files[").removesuffix("]") or str(position)
            meta = described.get(index, {})
            filename = str(meta.get("filename") or upload.filename or f"file{index}")
            content_type = upload.content_type
            if content_type in (None, "application/octet-stream"):
                content_type = mimetypes.guess_type(filename)[0] or content_type
            attachment_id = self.world.snowflakes.next()
            url = f"{self.origin()}/attachments/{channel_id}/{attachment_id}/{filename}"
            attachment: Payload = {
                "id": str(attachment_id),
                "filename": filename,
                "size": len(upload.data),
                "url": url,
                "proxy_url": url,
                "content_type": content_type,
            }
            if meta.get("description"):
                attachment["description"] = meta["description"]
            payloads.append(attachment)
            stored.append(
                AttachmentFile(
                    id=attachment_id,
                    filename=filename,
                    content_type=content_type,
                    data=upload.data,
                    description=meta.get("description"),
                )
            )
        return payloads, stored

    def _kept_attachments(self, message: MessageRecord, body: Payload) -> list[Payload] | None:
        if "attachments" not in body or body["attachments"] is None:
            return None
        existing = {a["id"]: a for a in message.attachments}
        return [
            existing[str(item["id"])]
            for item in body["attachments"]
            if isinstance(item, dict) and str(item.get("id")) in existing
        ]

    def _emit_message(self, event: str, message: MessageRecord) -> None:
        if not message.ephemeral:
            self.hub.dispatch(event, message.payload, message.guild_id, message.channel_id)

    # ---------------------------------------------------------------------------- identity
    async def get_me(self, request: RestRequest) -> tuple[int, Any]:
        """``GET /users/@me``: the bot user."""
        return 200, self.world.bot_user.payload() | {"verified": True, "mfa_enabled": False, "flags": 0}

    async def get_application(self, request: RestRequest) -> tuple[int, Any]:
        """``GET /oauth2/applications/@me``: the application (fields discord.py's AppInfo reads)."""
        bot = self.world.bot_user
        owner = next(iter(self.world.users.values()))
        return 200, {
            "id": str(self.world.application_id),
            "name": bot.name,
            "icon": None,
            "description": "A local sandbox application.",
            "bot_public": False,
            "bot_require_code_grant": False,
            "owner": owner.payload(),
            "verify_key": "0" * 64,
            "team": None,
            "flags": 0,
            "summary": "",
            "rpc_origins": [],
            "bot": bot.payload(),
            "interactions_endpoint_url": None,
            "redirect_uris": [],
            "approximate_guild_count": len(self.world.bot_guilds()),
        }

    async def get_gateway(self, request: RestRequest) -> tuple[int, Any]:
        """``GET /gateway``."""
        return 200, {"url": self.hub_url()}

    async def get_gateway_bot(self, request: RestRequest) -> tuple[int, Any]:
        """``GET /gateway/bot`` (used by AutoShardedClient)."""
        return 200, {
            "url": self.hub_url(),
            "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
        }

    def hub_url(self) -> str:
        """The gateway URL clients should connect to."""
        return self.origin().replace("http://", "ws://") + "/"

    async def get_user(self, request: RestRequest) -> tuple[int, Any]:
        """``GET /users/{user_id}``."""
        user = self.world.users.get(request.param("user_id"))
        if user is None:
            raise DiscordError(404, 10013, "Unknown User")
        return 200, user.payload()

    # ---------------------------------------------------------------------------- commands
    def _command_scope(self, request: RestRequest) -> int | None:
        if request.param("application_id") != self.world.application_id:
            raise DiscordError(403, 50001, "Missing Access")
        if "guild_id" not in request.params:
            return None
        guild_id = request.param("guild_id")
        guild = self.world.guilds.get(guild_id)
        if guild is None or not guild.bot_present:
            raise DiscordError(403, 50001, "Missing Access")
        return guild_id

    async def list_commands(self, request: RestRequest) -> tuple[int, Any]:
        """``GET .../commands``."""
        return 200, self.commands.listing(self._command_scope(request))

    async def put_commands(self, request: RestRequest) -> tuple[int, Any]:
        """``PUT .../commands``: bulk overwrite (what ``tree.sync()`` sends)."""
        scope = self._command_scope(request)
        if not isinstance(request.json, list):
            raise invalid_form("_", "BASE_TYPE_ARRAY", "Must be an array.")
        return 200, self.commands.put(scope, request.json)

    async def post_command(self, request: RestRequest) -> tuple[int, Any]:
        """``POST .../commands``: create or replace one command."""
        return 201, self.commands.upsert(self._command_scope(request), request.body())

    async def get_command(self, request: RestRequest) -> tuple[int, Any]:
        """``GET .../commands/{command_id}``."""
        command = self.commands.get(self._command_scope(request), request.param("command_id"))
        if command is None:
            raise DiscordError(404, 10063, "Unknown application command")
        return 200, command

    async def delete_command(self, request: RestRequest) -> tuple[int, Any]:
        """``DELETE .../commands/{command_id}``."""
        if not self.commands.delete(self._command_scope(request), request.param("command_id")):
            raise DiscordError(404, 10063, "Unknown application command")
        return 204, None

    # ---------------------------------------------------------------------------- messages
    async def create_message(self, request: RestRequest) -> tuple[int, Any]:
        """``POST /channels/{channel_id}/messages`` (JSON or multipart with files)."""
        channel = self._channel(request.param("channel_id"))
        body = request.body()
        if channel.is_dm:
            recipient = self.world.users.get(channel.recipient_id or 0)
            if recipient is None or recipient.dms_closed:
                raise DiscordError(403, 50007, "Cannot send messages to this user")
        else:
            needed = perms.VIEW_CHANNEL | (
                perms.SEND_MESSAGES_IN_THREADS if channel.is_thread else perms.SEND_MESSAGES
            )
            if request.files:
                needed |= perms.ATTACH_FILES
            self._require(channel, needed, hidden_code=50013)  # sends report 50013 even when hidden
        check_message(body, file_count=len(request.files))
        reply_to = None
        reference = body.get("message_reference")
        if isinstance(reference, dict) and reference.get("message_id"):
            reply_to = self.world.messages.get(int(reference["message_id"]))
            if reply_to is None or reply_to.deleted:
                if reference.get("fail_if_not_exists", True):
                    raise invalid_form(
                        "message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                    )
                reply_to = None
        attachments, stored = self.build_attachments(channel.id, body, request.files)
        message = self.world.store_message(
            channel=channel,
            author=self.world.bot_user,
            content=str(body.get("content") or ""),
            embeds=body.get("embeds") or [],
            components=body.get("components") or [],
            attachments=attachments,
            files=stored,
            flags=int(body.get("flags") or 0) & ALLOWED_SEND_FLAGS & ~EPHEMERAL_FLAG,
            reply_to=reply_to,
            allowed_mentions=body.get("allowed_mentions"),
            extra={"nonce": body["nonce"]} if body.get("nonce") is not None else None,
        )
        self._emit_message("MESSAGE_CREATE", message)
        return 200, message.payload

    async def list_messages(self, request: RestRequest) -> tuple[int, Any]:
        """``GET /channels/{channel_id}/messages`` (newest first; limit/before/after/around)."""
        channel = self._channel(request.param("channel_id"))
        self._require(channel, perms.VIEW_CHANNEL | perms.READ_MESSAGE_HISTORY)
        limit = max(1, min(100, int(request.query.get("limit", 50))))
        messages = sorted(self.world.messages_in(channel), key=lambda m: m.id, reverse=True)
        if "before" in request.query:
            messages = [m for m in messages if m.id < int(request.query["before"])]
        if "after" in request.query:
            messages = [m for m in messages if m.id > int(request.query["after"])][-limit:]
        if "around" in request.query:
            around = int(request.query["around"])
            older = [m for m in messages if m.id <= around][: (limit + 1) // 2]
            newer = [m for m in messages if m.id > around][-(limit // 2) :] if limit > 1 else []
            messages = newer + older
        return 200, [self._visible_payload(m) for m in messages[:limit]]

    async def get_message(self, request: RestRequest) -> tuple[int, Any]:
        """``GET /channels/{channel_id}/messages/{message_id}``."""
        channel = self._channel(request.param("channel_id"))
        self._require(channel, perms.VIEW_CHANNEL | perms.READ_MESSAGE_HISTORY)
        return 200, self._visible_payload(self._message_in(channel, request.param("message_id")))

    async def edit_message(self, request: RestRequest) -> tuple[int, Any]:
        """``PATCH /channels/{channel_id}/messages/{message_id}`` (the bot's own messages only)."""
        channel = self._channel(request.param("channel_id"))
        message = self._message_in(channel, request.param("message_id"))
        if message.author_id != self.world.bot_user.id:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        body = request.body()
        check_message(body, require_content=False)
        kept = self._kept_attachments(message, body)
        changes = dict(body)
        if kept is not None or request.files:
            changes["attachments"], stored = self.build_attachments(
                channel.id, body, request.files, kept if kept is not None else message.attachments
            )
            message.files.extend(stored)
        self.world.edit_message_payload(message, changes)
        self._emit_message("MESSAGE_UPDATE", message)
        return 200, message.payload

    async def delete_message(self, request: RestRequest) -> tuple[int, Any]:
        """``DELETE /channels/{channel_id}/messages/{message_id}`` (others' need Manage Messages)."""
        channel = self._channel(request.param("channel_id"))
        message = self._message_in(channel, request.param("message_id"))
        if message.author_id != self.world.bot_user.id:
            if channel.is_dm:
                raise DiscordError(403, 50003, "Cannot execute action on a DM channel")
            self._require(channel, perms.VIEW_CHANNEL | perms.MANAGE_MESSAGES)
        self.delete_stored(message)
        return 204, None

    def delete_stored(self, message: MessageRecord) -> None:
        """Mark a message deleted and emit MESSAGE_DELETE."""
        message.deleted = True
        if not message.ephemeral:
            payload: Payload = {"id": str(message.id), "channel_id": str(message.channel_id)}
            if message.guild_id is not None:
                payload["guild_id"] = str(message.guild_id)
            self.hub.dispatch("MESSAGE_DELETE", payload, message.guild_id, message.channel_id)

    async def add_reaction(self, request: RestRequest) -> tuple[int, Any]:
        """``PUT .../reactions/{emoji}/@me``: record the bot's reaction."""
        channel = self._channel(request.param("channel_id"))
        self._require(channel, perms.VIEW_CHANNEL | perms.READ_MESSAGE_HISTORY | perms.ADD_REACTIONS)
        message = self._message_in(channel, request.param("message_id"))
        emoji = request.params["emoji"]
        reactions = message.payload.setdefault("reactions", [])
        reactions.append({"count": 1, "me": True, "emoji": {"id": None, "name": emoji}})
        return 204, None

    async def typing(self, request: RestRequest) -> tuple[int, Any]:
        """``POST /channels/{channel_id}/typing``."""
        self._channel(request.param("channel_id"))
        return 204, None

    # ---------------------------------------------------------------------------- channels
    async def get_channel(self, request: RestRequest) -> tuple[int, Any]:
        """``GET /channels/{channel_id}``."""
        channel = self._channel(request.param("channel_id"))
        self._require(channel, perms.VIEW_CHANNEL)
        return 200, self.world.channel_payload(channel)

    async def create_dm(self, request: RestRequest) -> tuple[int, Any]:
        """``POST /users/@me/channels``: open (or look up) the DM channel with a user."""
        recipient = request.body().get("recipient_id")
        try:
            user = self.world.users[int(recipient)]  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError):
            raise invalid_form("recipient_id", "NUMBER_TYPE_COERCE", "Value is not snowflake.") from None
        return 200, self.world.channel_payload(self.world.dm_channel_for(user))

    # ------------------------------------------------------------------------------ guilds
    def _guild(self, request: RestRequest) -> Any:
        guild = self.world.guilds.get(request.param("guild_id"))
        if guild is None:
            raise DiscordError(404, 10004, "Unknown Guild")
        if not guild.bot_present:
            raise DiscordError(403, 50001, "Missing Access")
        return guild

    async def get_guild(self, request: RestRequest) -> tuple[int, Any]:
        """``GET /guilds/{guild_id}``."""
        guild = self._guild(request)
        payload = self.world.guild_payload(guild)
        for key in (
            "members",
            "channels",
            "threads",
            "voice_states",
            "presences",
            "joined_at",
            "large",
            "member_count",
            "unavailable",
            "stage_instances",
            "guild_scheduled_events",
        ):
            payload.pop(key, None)
        payload["approximate_member_count"] = len(guild.members)
        payload["approximate_presence_count"] = 0
        return 200, payload

    async def get_guild_channels(self, request: RestRequest) -> tuple[int, Any]:
        """``GET /guilds/{guild_id}/channels``."""
        guild = self._guild(request)
        return 200, [c.payload() for c in guild.channels.values() if not c.is_thread]

    async def get_guild_roles(self, request: RestRequest) -> tuple[int, Any]:
        """``GET /guilds/{guild_id}/roles``."""
        return 200, [role.payload() for role in self._guild(request).roles.values()]

    async def get_member(self, request: RestRequest) -> tuple[int, Any]:
        """``GET /guilds/{guild_id}/members/{user_id}``."""
        guild = self._guild(request)
        member = guild.members.get(request.param("user_id"))
        if member is None:
            raise DiscordError(404, 10007, "Unknown Member")
        return 200, member.payload()

    async def list_members(self, request: RestRequest) -> tuple[int, Any]:
        """``GET /guilds/{guild_id}/members?limit&after`` (ordered by user id)."""
        guild = self._guild(request)
        limit = max(1, min(1000, int(request.query.get("limit", 1))))
        after = int(request.query.get("after", 0))
        members = sorted((m for m in guild.members.values() if m.user.id > after), key=lambda m: m.user.id)
        return 200, [m.payload() for m in members[:limit]]

    async def edit_member(self, request: RestRequest) -> tuple[int, Any]:
        """``PATCH /guilds/{guild_id}/members/{user_id}``: roles, nick, timeout."""
        guild = self._guild(request)
        user_id = request.param("user_id")
        member = guild.members.get(user_id)
        if member is None:
            raise DiscordError(404, 10007, "Unknown Member")
        body = request.body()
        bot_permissions = self.world.permissions_for(self.world.bot_user, guild=guild)
        target_permissions = self.world.permissions_for(user_id, guild=guild)
        if "communication_disabled_until" in body:
            if not bot_permissions & perms.MODERATE_MEMBERS:
                raise DiscordError(403, 50013, "Missing Permissions")
            if target_permissions & perms.ADMINISTRATOR or user_id == guild.owner_id:
                raise DiscordError(403, 50013, "Missing Permissions")
        if "roles" in body and not bot_permissions & perms.MANAGE_ROLES:
            raise DiscordError(403, 50013, "Missing Permissions")
        if "nick" in body and not bot_permissions & (1 << 27):
            raise DiscordError(403, 50013, "Missing Permissions")
        roles = None
        if "roles" in body and body["roles"] is not None:
            roles = [guild.roles[int(r)] for r in body["roles"] if int(r) in guild.roles]
        updated = self.world.update_member(
            guild,
            user_id,
            roles=roles,
            nick=body.get("nick"),
            communication_disabled_until=body.get("communication_disabled_until", False),
        )
        return 200, updated.payload()

    async def create_thread(self, request: RestRequest) -> tuple[int, Any]:
        """``POST /channels/{channel_id}/threads``: a thread without a starter message, or a forum post."""
        parent = self._channel(request.param("channel_id"))
        body = request.body()
        name = str(body.get("name") or "")
        if not name.strip() or len(name) > 100:
            raise invalid_form("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        if parent.type == GUILD_FORUM:
            self._require(parent, perms.VIEW_CHANNEL | perms.SEND_MESSAGES)
            first: Payload = body["message"] if isinstance(body.get("message"), dict) else {}
            check_message(first, file_count=len(request.files))
            thread = self.world.add_thread(parent, name, owner=self.world.bot_user)
            attachments, stored = self.build_attachments(thread.id, first, request.files)
            message = self.world.store_message(
                channel=thread,
                author=self.world.bot_user,
                content=str(first.get("content") or ""),
                embeds=first.get("embeds") or [],
                components=first.get("components") or [],
                attachments=attachments,
                files=stored,
                message_id=thread.id,
                allowed_mentions=first.get("allowed_mentions"),
            )
            self._emit_message("MESSAGE_CREATE", message)
            return 201, self.world.channel_payload(thread) | {"message": message.payload}
        if parent.type != GUILD_TEXT:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        self._require(parent, perms.VIEW_CHANNEL | perms.CREATE_PUBLIC_THREADS)
        thread = self.world.add_thread(parent, name, owner=self.world.bot_user)
        return 201, self.world.channel_payload(thread)

    async def create_thread_from_message(self, request: RestRequest) -> tuple[int, Any]:
        """``POST /channels/{channel_id}/messages/{message_id}/threads``: thread id = message id."""
        parent = self._channel(request.param("channel_id"))
        message = self._message_in(parent, request.param("message_id"))
        self._require(parent, perms.VIEW_CHANNEL | perms.CREATE_PUBLIC_THREADS)
        if message.id in self.world.channels:
            raise DiscordError(400, 160004, "A thread has already been created for this message")
        name = str(request.body().get("name") or "")
        if not name.strip() or len(name) > 100:
            raise invalid_form("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        thread = self.world.add_thread(parent, name, owner=self.world.bot_user, thread_id=message.id)
        return 201, self.world.channel_payload(thread)

    async def leave_guild(self, request: RestRequest) -> tuple[int, Any]:
        """``DELETE /users/@me/guilds/{guild_id}``: the bot leaves."""
        guild = self._guild(request)
        self.world.remove_bot(guild)
        return 204, None

    # ------------------------------------------------------------------------- interactions
    def _interaction_by_token(self, request: RestRequest) -> InteractionRecord:
        token = request.params.get("interaction_token", "")
        found = next((ix for ix in self.interactions.values() if ix.token == token), None)
        if found is None or request.param("application_id") != self.world.application_id:
            raise DiscordError(404, 10015, "Unknown Webhook")
        return found

    def _interaction_channel(self, interaction: InteractionRecord) -> ChannelRecord:
        channel = self.world.channels.get(interaction.channel_id or 0)
        if channel is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        return channel

    def _interaction_message(
        self,
        interaction: InteractionRecord,
        data: Payload,
        files: Sequence[FileRecord],
        *,
        message_type: int,
        flags: int,
    ) -> MessageRecord:
        channel = self._interaction_channel(interaction)
        attachments, stored = self.build_attachments(channel.id, data, files)
        user = interaction.payload.get("member", {}).get("user") or interaction.payload.get("user")
        metadata: Payload = {
            "id": str(interaction.id),
            "type": interaction.type,
            "user": user,
            "authorizing_integration_owners": {"0": str(interaction.guild_id or 0)},
        }
        extra: Payload = {
            "webhook_id": str(self.world.application_id),
            "application_id": str(self.world.application_id),
            "interaction_metadata": metadata,
        }
        return self.world.store_message(
            channel=channel,
            author=self.world.bot_user,
            content=str(data.get("content") or ""),
            embeds=data.get("embeds") or [],
            components=data.get("components") or [],
            attachments=attachments,
            files=stored,
            flags=flags,
            message_type=message_type,
            extra=extra,
            ephemeral=bool(flags & EPHEMERAL_FLAG),
            interaction_id=interaction.id,
            allowed_mentions=data.get("allowed_mentions"),
        )

    async def interaction_callback(self, request: RestRequest) -> tuple[int, Any]:
        """``POST /interactions/{id}/{token}/callback`` (types 1, 4, 5, 6, 7, 8, 9)."""
        interaction = self.interactions.get(request.param("interaction_id"))
        if interaction is None or interaction.token != request.params["interaction_token"]:
            raise DiscordError(404, 10062, "Unknown interaction")
        if interaction.callbacks:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        body = request.body()
        kind = int(body.get("type", 0))
        data: Payload = body.get("data") or {}
        flags = int(data.get("flags") or 0)
        message: MessageRecord | None = None
        if kind == 4:
            check_message(data, file_count=len(request.files))
            message_type = {2: MESSAGE_CHAT_INPUT_COMMAND}.get(interaction.type, MESSAGE_DEFAULT)
            if interaction.type == 2 and int(interaction.payload["data"].get("type", 1)) != 1:
                message_type = MESSAGE_CONTEXT_MENU_COMMAND
            message = self._interaction_message(
                interaction, data, request.files, message_type=message_type, flags=flags & ALLOWED_SEND_FLAGS
            )
            interaction.original_message_id = message.id
            self._emit_message("MESSAGE_CREATE", message)
        elif kind == 5:
            message_type = MESSAGE_CHAT_INPUT_COMMAND if interaction.type == 2 else MESSAGE_DEFAULT
            message = self._interaction_message(
                interaction, {}, [], message_type=message_type, flags=(flags & EPHEMERAL_FLAG) | LOADING_FLAG
            )
            interaction.original_message_id = message.id
            self._emit_message("MESSAGE_CREATE", message)
        elif kind in (6, 7):
            target_id = interaction.component_message_id
            if target_id is None:
                raise DiscordError(
                    400,
                    50035,
                    "Invalid Form Body",
                    {
                        "type": {
                            "_errors": [
                                {
                                    "code": "INTERACTION_RESPONSE_TYPE_INVALID",
                                    "message": "Interaction response type is invalid",
                                }
                            ]
                        }
                    },
                )
            interaction.original_message_id = target_id
            if kind == 7:
                check_message(data, require_content=False)
                message = self.world.messages[target_id]
                changes = dict(data)
                if request.files or data.get("attachments") is not None:
                    kept = self._kept_attachments(message, data)
                    changes["attachments"], stored = self.build_attachments(
                        message.channel_id,
                        data,
                        request.files,
                        kept if kept is not None else message.attachments,
                    )
                    message.files.extend(stored)
                self.world.edit_message_payload(message, changes)
                self._emit_message("MESSAGE_UPDATE", message)
        elif kind == 9:
            if not data.get("custom_id") or not data.get("title") or not data.get("components"):
                raise invalid_form("data", "BASE_TYPE_REQUIRED", "This field is required")
            check_components(data.get("components") or [], flags=1 << 15)
        elif kind not in (1, 8):
            raise invalid_form("type", "BASE_TYPE_CHOICES", "Value must be one of (1, 4, 5, 6, 7, 8, 9).")
        interaction.callbacks.append(
            CallbackRecord(
                type=kind, data=data, message=message, files=list(message.files) if message else []
            )
        )
        if request.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        response: Payload = {
            "interaction": {"id": str(interaction.id), "type": interaction.type},
            "resource": {"type": kind},
        }
        if message is not None:
            response["interaction"].update(
                {
                    "response_message_id": str(message.id),
                    "response_message_loading": kind == 5,
                    "response_message_ephemeral": message.ephemeral,
                }
            )
            response["resource"]["message"] = message.payload
        return 200, response

    async def create_followup(self, request: RestRequest) -> tuple[int, Any]:
        """``POST /webhooks/{app}/{token}``: an interaction follow-up message."""
        interaction = self._interaction_by_token(request)
        if not interaction.callbacks:
            raise DiscordError(404, 10015, "Unknown Webhook")
        body = request.body()
        check_message(body, file_count=len(request.files))
        flags = int(body.get("flags") or 0) & ALLOWED_SEND_FLAGS
        original = interaction.original_now()
        if interaction.callbacks[0].type == 5 and original is not None and original.flags & LOADING_FLAG:
            changes = dict(body)
            changes["attachments"], stored = self.build_attachments(original.channel_id, body, request.files)
            original.files.extend(stored)
            self.world.edit_message_payload(original, changes)
            interaction.followup_ids.append(original.id)
            self._emit_message("MESSAGE_UPDATE", original)
            message = original
        else:
            message = self._interaction_message(
                interaction, body, request.files, message_type=MESSAGE_DEFAULT, flags=flags
            )
            interaction.followup_ids.append(message.id)
            self._emit_message("MESSAGE_CREATE", message)
        if request.query.get("wait") in ("1", "true", "True"):
            return 200, message.payload
        return 204, None

    def _webhook_target(self, request: RestRequest) -> tuple[InteractionRecord, MessageRecord]:
        interaction = self._interaction_by_token(request)
        raw = request.params["message_id"]
        if raw == "@original":
            message_id = interaction.original_message_id
        else:
            message_id = int(raw) if raw.isdigit() else None
            if message_id not in interaction.followup_ids and message_id != interaction.original_message_id:
                message_id = None
        message = self.world.messages.get(message_id or 0)
        if message is None or message.deleted:
            raise DiscordError(404, 10008, "Unknown Message")
        return interaction, message

    async def get_webhook_message(self, request: RestRequest) -> tuple[int, Any]:
        """``GET /webhooks/{app}/{token}/messages/{id|@original}``."""
        return 200, self._webhook_target(request)[1].payload

    async def edit_webhook_message(self, request: RestRequest) -> tuple[int, Any]:
        """``PATCH /webhooks/{app}/{token}/messages/{id|@original}``."""
        _, message = self._webhook_target(request)
        body = request.body()
        check_message(body, require_content=False)
        changes = dict(body)
        kept = self._kept_attachments(message, body)
        if kept is not None or request.files:
            changes["attachments"], stored = self.build_attachments(
                message.channel_id, body, request.files, kept if kept is not None else message.attachments
            )
            message.files.extend(stored)
        self.world.edit_message_payload(message, changes)
        self._emit_message("MESSAGE_UPDATE", message)
        return 200, message.payload

    async def delete_webhook_message(self, request: RestRequest) -> tuple[int, Any]:
        """``DELETE /webhooks/{app}/{token}/messages/{id|@original}``."""
        _, message = self._webhook_target(request)
        self.delete_stored(message)
        return 204, None

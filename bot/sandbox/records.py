"""What the sandbox records: REST calls, observer events, interactions and their responses.

Waiting is condition-based: every state change calls :meth:`ChangeNotifier.notify`, and waiters re-check
their predicate. Nothing here sleeps for a fixed time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.sandbox.world import EPHEMERAL_FLAG, AttachmentFile, MessageRecord, Payload, World

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0


class SandboxTimeout(AssertionError):
    """A wait on the sandbox ran out of time; the message says what was awaited."""


class ChangeNotifier:
    """Wakes every waiter when something in the sandbox changed."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        """Wake all current waiters so they re-check their conditions."""
        waiters, self._waiters = self._waiters, set()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_for(self, check: Callable[[], T | None], *, timeout: float, what: str) -> T:  # noqa: ASYNC109
        """Return the first truthy ``check()`` result, re-checking after each change; raise on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise SandboxTimeout(f"timed out after {timeout:.0f}s waiting for {what}")
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.add(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                continue
            finally:
                self._waiters.discard(waiter)


@dataclass
class FileRecord:
    """A file uploaded with a REST call (multipart)."""

    field_name: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class CallRecord:
    """One REST call the sandbox answered (or refused)."""

    method: str
    path: str
    route: str | None
    params: dict[str, str]
    query: dict[str, str]
    json: Any
    files: list[FileRecord]
    status: int
    response: Any
    time: float
    serial: int
    fault: bool = False

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


@dataclass
class SandboxEvent:
    """A readable record for observers (the terminal view): a REST call, a gateway frame, or a note."""

    kind: str  # "rest", "gateway-out", "gateway-in", "note"
    summary: str
    detail: Any = None
    time: float = field(default_factory=time.time)

    def __str__(self) -> str:
        return f"[{self.kind}] {self.summary}"


@dataclass
class CallbackRecord:
    """One interaction callback (``POST /interactions/{id}/{token}/callback``)."""

    type: int
    data: Payload
    files: list[AttachmentFile] = field(default_factory=list)
    message: MessageRecord | None = None

    @property
    def content(self) -> str:
        """The response text ("" for defers and modals)."""
        if self.message is not None:
            return self.message.content
        return str(self.data.get("content") or "")

    @property
    def embeds(self) -> list[Payload]:
        """The response embeds."""
        if self.message is not None:
            return self.message.embeds
        return list(self.data.get("embeds") or [])

    @property
    def components(self) -> list[Payload]:
        """The response components (for a modal: its rows/labels)."""
        if self.message is not None and self.type != 9:
            return self.message.components
        return list(self.data.get("components") or [])

    @property
    def attachments(self) -> list[Payload]:
        """The attachment payloads of the response message."""
        return self.message.attachments if self.message is not None else []

    @property
    def flags(self) -> int:
        """The flags sent with the response."""
        if self.message is not None:
            return self.message.flags
        return int(self.data.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        """Whether only the invoking user can see the response."""
        return bool(self.flags & EPHEMERAL_FLAG)

    @property
    def choices(self) -> list[Payload]:
        """Autocomplete choices (callback type 8)."""
        return list(self.data.get("choices") or [])

    @property
    def title(self) -> str | None:
        """A modal's title."""
        return self.data.get("title")

    @property
    def custom_id(self) -> str | None:
        """A modal's custom_id."""
        return self.data.get("custom_id")

    def text(self) -> str:
        """Content plus embed text, as a reader would see it."""
        if self.message is not None:
            return self.message.text()
        return self.content


class InteractionRecord:
    """An interaction the sandbox sent to the bot, and everything the bot answered."""

    def __init__(self, *, payload: Payload, world: World, notifier: ChangeNotifier) -> None:
        self.payload = payload
        self.id = int(payload["id"])
        self.token = str(payload["token"])
        self.type = int(payload["type"])
        self.guild_id = int(payload["guild_id"]) if payload.get("guild_id") else None
        self.channel_id = int(payload["channel_id"]) if payload.get("channel_id") else None
        user = payload.get("member", {}).get("user") or payload.get("user") or {}
        self.user_id = int(user["id"])
        self.callbacks: list[CallbackRecord] = []
        self.original_message_id: int | None = None
        self.followup_ids: list[int] = []
        self._world = world
        self._notifier = notifier
        self.explain: Callable[[], str] = lambda: ""
        """Set by the sandbox: describes recent activity when a wait on this interaction times out."""

    async def _wait(self, check: Callable[[], T | None], timeout: float, what: str) -> T:  # noqa: ASYNC109
        try:
            return await self._notifier.wait_for(check, timeout=timeout, what=what)
        except SandboxTimeout as error:
            raise SandboxTimeout(f"{error}\n{self.explain()}".rstrip()) from None

    def __repr__(self) -> str:
        return (
            f"<InteractionRecord id={self.id} type={self.type} callbacks={[c.type for c in self.callbacks]}>"
        )

    @property
    def responded(self) -> bool:
        """Whether the bot sent a callback."""
        return bool(self.callbacks)

    @property
    def component_message_id(self) -> int | None:
        """For a component/modal interaction from a message: that message's id."""
        message = self.payload.get("message")
        return int(message["id"]) if message else None

    async def response(self, timeout: float = DEFAULT_TIMEOUT) -> CallbackRecord:  # noqa: ASYNC109
        """Wait for and return the first callback the bot sent."""
        return await self._wait(
            lambda: self.callbacks[0] if self.callbacks else None,
            timeout=timeout,
            what=f"a response to interaction {self.id}",
        )

    async def followups(self, count: int = 1, timeout: float = DEFAULT_TIMEOUT) -> list[MessageRecord]:  # noqa: ASYNC109
        """Wait until the bot sent at least ``count`` follow-up messages and return them (edits applied)."""

        def check() -> list[MessageRecord] | None:
            if len(self.followup_ids) < count:
                return None
            return [self._world.messages[message_id] for message_id in self.followup_ids]

        return await self._wait(check, timeout=timeout, what=f"{count} follow-up(s) to {self.id}")

    def original_now(self) -> MessageRecord | None:
        """The @original message as it is now (None if there is none yet)."""
        if self.original_message_id is None:
            return None
        return self._world.messages.get(self.original_message_id)

    async def original(self, timeout: float = DEFAULT_TIMEOUT) -> MessageRecord:  # noqa: ASYNC109
        """Wait for the @original response message; after a "thinking" defer, wait for its first edit."""

        def check() -> MessageRecord | None:
            message = self.original_now()
            if message is None or not self.callbacks:
                return None
            if self.callbacks[0].type == 5 and message.edit_count == 0:
                return None
            return message

        return await self._wait(check, timeout=timeout, what=f"the original response of {self.id}")

    async def modal(self, timeout: float = DEFAULT_TIMEOUT) -> CallbackRecord:  # noqa: ASYNC109
        """Wait for a modal (callback type 9) and return it."""

        def check() -> CallbackRecord | None:
            return next((callback for callback in self.callbacks if callback.type == 9), None)

        return await self._wait(check, timeout=timeout, what=f"a modal from interaction {self.id}")

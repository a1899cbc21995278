"""``heard demo``: a scripted support conversation played through the real bot in the sandbox.

The demo is a list of steps. Every module in this package whose name does not start with ``_`` and that
defines ``ORDER: int`` and ``async def run(ctx: DemoContext) -> None`` is a step; steps run by ``ORDER``.
Each step acts through :class:`DemoContext` (which prints as it goes) so the transcript reads top-down.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import pkgutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TextIO

from bot.transcript import Transcript, iter_components

if TYPE_CHECKING:
    from bot.bot import HeardBot

log = logging.getLogger(__name__)

START_TIMEOUT = 60.0
STEP_TIMEOUT = 30.0

DemoStep = Callable[["DemoContext"], Awaitable[None]]


@dataclass
class DemoContext:
    """What a demo step works with: the sandbox, its scene, the running bot, and the transcript."""

    sandbox: Any
    scene: Any
    bot: HeardBot
    transcript: Transcript
    timeout: float = STEP_TIMEOUT
    shown_message_ids: set[int] = field(default_factory=set)
    shown_edits: set[tuple[int, int]] = field(default_factory=set)

    def show(self, text: str) -> None:
        """Print a stage direction, e.g. what the next member is about to do."""
        self.transcript.narrate(text)

    def say(self, text: str) -> None:
        """Print a plain transcript line."""
        self.transcript.write(text)

    async def member_says(
        self, user: Any, channel: Any, text: str, *, reply_to: Any | None = None, thread: Any | None = None
    ) -> Any:
        """Post ``text`` as ``user`` (optionally replying to a message record or id) and print it."""
        reply_id = getattr(reply_to, "id", reply_to)
        record = await self.sandbox.member_says(user, channel, text, reply_to=reply_id, thread=thread)
        self.transcript.member_message(record)
        self.shown_message_ids.add(record.id)
        return record

    async def start_thread(self, user: Any, forum: Any, title: str, text: str) -> Any:
        """Start a forum thread as ``user`` and print its first message; return what the sandbox returns."""
        thread = await self.sandbox.start_thread(user, forum, title, text)
        for record in self.sandbox.messages_in(getattr(thread, "id", thread)):
            if record.id not in self.shown_message_ids:
                self.transcript.member_message(record)
                self.shown_message_ids.add(record.id)
        return thread

    async def slash(self, user: Any, command: str, *, force: bool = False, **options: Any) -> Any:
        """Run ``/command`` as ``user`` in the scene's guild, print it and Heard's answer; return the answer.

        ``force`` sends it even where Discord's default permissions would hide the command from ``user``.
        """
        self.transcript.member_command(user, command, options)
        interaction = await self.sandbox.slash(user, self.scene.guild, command, force=force, **options)
        return await self.show_answer(interaction, user)

    async def click(self, user: Any, message: Any, button: str) -> Any:
        """Press the button labelled ``button`` (or with that custom_id) on a message Heard sent.

        Prints the press and Heard's answer, and returns the answer (type 7 means the message was edited).
        """
        chosen = find_button(message, button)
        self.say(
            f"   {user.name} pressed [{chosen.get('label') or chosen['custom_id']}] on #{message.serial}"
        )
        interaction = await self.sandbox.click(user, message, str(chosen["custom_id"]))
        return await self.show_answer(interaction, user)

    async def message_menu(self, user: Any, name: str, message: Any) -> Any:
        """Use the message menu ``name`` (right-click → Apps) on ``message``; print and return the answer."""
        self.say(f"   {user.name} used the menu {name!r} on #{message.serial}")
        interaction = await self.sandbox.message_menu(user, self.scene.guild, name, message)
        return await self.show_answer(interaction, user)

    async def show_answer(self, interaction: Any, user: Any) -> Any:
        """Wait for Heard's answer to ``interaction``, print it and return it.

        A deferred answer is shown as its edited original; an edit of the clicked message as that message.
        """
        response = await interaction.response(timeout=self.timeout)
        if response.type == 5:  # deferred ("thinking"): what matters is the edited original
            original = await interaction.original(timeout=self.timeout)
            self.transcript.heard_message(original, label=_visibility(response, user))
            self.shown_message_ids.add(original.id)
        elif response.type in (6, 7) and interaction.component_message_id is not None:
            edited = self.sandbox.world.messages.get(interaction.component_message_id)
            if edited is not None:
                self.show_edit(edited)
        elif response.message is None or response.message.id not in self.shown_message_ids:
            self.transcript.heard_answer(response, user)
            if response.message is not None:
                self.shown_message_ids.add(response.message.id)
        return response

    def show_edit(self, record: Any) -> None:
        """Print a message Heard edited, once per edit."""
        key = (record.id, record.edit_count)
        if key in self.shown_edits:
            return
        self.shown_edits.add(key)
        self.transcript.heard_message(record, label=f"updated #{record.serial}")

    def show_unseen(self) -> list[Any]:
        """Print every channel message and DM Heard sent that was not shown yet; return them."""
        bot_id = self.sandbox.world.bot_user.id
        unseen = [
            record
            for record in sorted(self.sandbox.world.messages.values(), key=lambda record: record.serial)
            if record.author_id == bot_id
            and not record.ephemeral
            and not record.deleted
            and record.interaction_id is None
            and record.id not in self.shown_message_ids
        ]
        for record in unseen:
            self.show_message(record)
        return unseen

    async def wait_for_heard_message(
        self, predicate: Callable[[Any], bool], *, label: str | None = None
    ) -> Any:
        """Wait for a message Heard sends (channel or DM) matching ``predicate``, print it and return it."""
        record = await self.sandbox.wait_for_message(predicate, timeout=self.timeout)
        self.transcript.heard_message(record, label=label)
        self.shown_message_ids.add(record.id)
        return record

    async def wait_for_dm(self, user: Any) -> Any:
        """Wait for Heard's next not-yet-shown DM to ``user``, print it and return it."""
        dm_channel = self.sandbox.world.dm_channel_for(user)
        return await self.wait_for_heard_message(
            lambda message: message.channel_id == dm_channel.id and message.id not in self.shown_message_ids
        )

    def show_message(self, record: Any, *, label: str | None = None) -> None:
        """Print a message Heard sent (once)."""
        if record.id in self.shown_message_ids:
            return
        self.transcript.heard_message(record, label=label)
        self.shown_message_ids.add(record.id)


def find_button(message: Any, button: str) -> dict[str, Any]:
    """Return the button on ``message`` whose label (any case) or custom_id is ``button``.

    Raises ValueError naming the buttons there are.
    """
    buttons = [dict(item) for item in iter_components(message.components) if item.get("type") == 2]
    for item in buttons:
        if button.lower() == str(item.get("label", "")).lower() or button == item.get("custom_id"):
            if "custom_id" not in item:
                raise ValueError(f"[{item.get('label')}] is a link button; it cannot be pressed here")
            return item
    names = ", ".join(f"[{item.get('label') or item.get('custom_id')}]" for item in buttons) or "none"
    raise ValueError(f"message #{message.serial} has no button {button!r} (its buttons: {names})")


def _visibility(response: Any, user: Any) -> str:
    """Label an interaction answer with who can see it."""
    return f"only {user.name} sees this" if response.ephemeral else "visible to everyone"


@dataclass(frozen=True)
class Step:
    """A discovered demo step."""

    order: int
    name: str
    title: str
    run: DemoStep


def discover_steps(package: str = __name__) -> list[Step]:
    """Return the demo steps in ``package`` sorted by ``ORDER`` (then module name)."""
    module = importlib.import_module(package)
    steps: list[Step] = []
    for info in pkgutil.iter_modules(module.__path__):
        if info.name.startswith("_"):
            continue
        step_module = importlib.import_module(f"{package}.{info.name}")
        step = _as_step(step_module)
        if step is not None:
            steps.append(step)
    return sorted(steps, key=lambda step: (step.order, step.name))


def _as_step(module: ModuleType) -> Step | None:
    """Return the module's step if it defines ``ORDER`` and ``run``."""
    order = getattr(module, "ORDER", None)
    run = getattr(module, "run", None)
    if not isinstance(order, int) or not callable(run):
        return None
    name = module.__name__.rsplit(".", 1)[-1]
    title = str(getattr(module, "TITLE", name.replace("_", " ").capitalize()))
    return Step(order=order, name=name, title=title, run=run)


async def run_demo(out: TextIO | None = None) -> int:
    """Play every demo step through Heard in a fresh sandbox, printing the transcript; return an exit code."""
    from bot.app import configure_logging
    from bot.bot import HeardBot, start_until_serving
    from bot.sandbox import Sandbox
    from config import load_settings

    stream = out or sys.stdout
    steps = discover_steps()
    sandbox = await Sandbox.start()
    bot: HeardBot | None = None
    start_task: asyncio.Task[None] | None = None
    try:
        scene = sandbox.world.seed_default()
        with tempfile.TemporaryDirectory(prefix="heard-demo-") as folder:
            settings = load_settings(
                discord_token=sandbox.token,
                discord_api_base=sandbox.api_base,
                discord_gateway_url=sandbox.gateway_url,
                database_path=Path(folder) / "heard.sqlite3",
                dev_guild_id=None,
                application_id=None,
            )
            configure_logging(settings.log_level if "log_level" in settings.model_fields_set else "WARNING")
            bot = HeardBot(settings)
            start_task = await start_until_serving(bot, sandbox.token, within=START_TIMEOUT)
            transcript = Transcript(sandbox, stream)
            transcript.write(
                f"Heard demo: a scripted conversation in {scene.guild.name!r}, a pretend Discord server "
                "running on this machine."
            )
            transcript.write("Everything below went through the real bot; private answers are marked.")
            context = DemoContext(sandbox=sandbox, scene=scene, bot=bot, transcript=transcript)
            for number, step in enumerate(steps, start=1):
                transcript.heading(f"{number}. {step.title}")
                try:
                    await step.run(context)
                except Exception as error:
                    log.debug("demo step %s failed", step.name, exc_info=True)
                    print(f"heard demo: step {step.name!r} failed: {error}", file=sys.stderr)
                    return 1
            transcript.write()
            transcript.write("That's the demo. Try it yourself with `heard sandbox`.")
            await bot.close()
    finally:
        if bot is not None:
            await bot.close()
        if start_task is not None:
            await asyncio.gather(start_task, return_exceptions=True)
        await sandbox.stop()
    return 0

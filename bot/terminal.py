"""``heard sandbox``: the sandbox and Heard in one process, driven by lines a person types.

Lines look like ``alex> I had a rough day`` (post in the current channel), ``alex> reply 3 text``,
``alex> #general text``, ``alex> dm text``, ``alex> thread #vent Title | text``, ``admin> /heard status``,
``alex> click 5 Show tip``, ``alex> menu 3 Suggest a reflection``, ``alex> delete 3``; plus ``help``,
``who`` and ``quit``.
Heard's messages in channels and DMs are printed as they happen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.demo import DemoContext
from bot.transcript import Transcript

if TYPE_CHECKING:
    from bot.bot import HeardBot

log = logging.getLogger(__name__)

HELP = """\
Type a line and press Enter. NAME is a member: {names}.
  NAME> text                         post in the current channel ({channel})
  NAME> #channel text                post in another channel (and make it current)
  NAME> reply N text                 reply to message #N
  NAME> delete N                     delete your own message #N
  NAME> dm text                      send Heard a direct message
  NAME> thread #forum Title | text   start a forum thread
  NAME> /heard status                run a slash command; options as name:value, e.g.
  NAME> /heard watch channel:#general          (#channel, @role or @member, numbers, true/false)
  NAME> click N Label                press a button on message #N
  NAME> menu N Command name          use a message menu (e.g. "Suggest a reflection") on message #N
  who                                list members and channels
  help                               this text
  quit                               stop (Ctrl-D and Ctrl-C work too)"""

OPTION_SPLIT = re.compile(r"\s+(?=[a-z_]+:)")


@dataclass
class Session:
    """The state of one terminal session: who is who, the current channel, and what was printed."""

    context: DemoContext
    out: TextIO
    channel: Any
    aliases: dict[str, Any] = field(default_factory=dict)

    @property
    def sandbox(self) -> Any:
        """The running sandbox."""
        return self.context.sandbox

    def member(self, name: str) -> Any:
        """Return the user called ``name`` (scene role names like ``admin`` work too)."""
        user = self.aliases.get(name.lower())
        if user is None:
            raise ValueError(f"no member called {name!r}; try `who`")
        return user

    def channel_named(self, text: str) -> Any:
        """Return the guild channel called ``#text`` (or ``text``)."""
        wanted = text.lstrip("#").lower()
        for channel in self.context.scene.guild.channels.values():
            if channel.name.lower() == wanted:
                return channel
        raise ValueError(f"no channel called #{wanted}; try `who`")

    def message_number(self, text: str) -> Any:
        """Return the message shown as ``#N`` in the transcript."""
        try:
            serial = int(text.lstrip("#"))
        except ValueError:
            raise ValueError(f"{text!r} is not a message number like 3") from None
        for record in self.sandbox.world.messages.values():
            if record.serial == serial:
                return record
        raise ValueError(f"there is no message #{serial}")

    def option_value(self, raw: str) -> Any:
        """Turn ``#channel``, ``@role``/``@member``, numbers and true/false into option values."""
        value = raw.strip()
        if value.startswith("#"):
            return self.channel_named(value)
        if value.startswith("@"):
            name = value[1:].lower()
            for role in self.context.scene.guild.roles.values():
                if role.name.lower() == name:
                    return role
            return self.member(name)
        if value.lower() in {"true", "false", "yes", "no", "on", "off"}:
            return value.lower() in {"true", "yes", "on"}
        if re.fullmatch(r"-?\d+", value):
            return int(value)
        return value


def build_aliases(scene: Any) -> dict[str, Any]:
    """Map member names and scene roles (``admin``, ``moderator``, ``owner``) to users."""
    aliases: dict[str, Any] = {}
    for role in ("owner", "admin", "moderator", "alex", "sam", "jo", "riley"):
        user = getattr(scene, role, None)
        if user is not None:
            aliases[role] = user
            aliases[user.name.lower()] = user
    return aliases


async def handle_line(session: Session, line: str) -> bool:
    """Act on one typed line; return False when the person asked to quit."""
    text = line.strip()
    if not text:
        return True
    lowered = text.lower()
    if lowered in {"quit", "exit", "q"}:
        return False
    if lowered in {"help", "?"}:
        names = ", ".join(sorted({user.name for user in session.aliases.values()}))
        session.context.say(HELP.format(names=names, channel=f"#{session.channel.name}"))
        return True
    if lowered == "who":
        describe_world(session)
        return True
    speaker, separator, rest = text.partition(">")
    if not separator or not speaker.strip() or " " in speaker.strip():
        session.context.say("  (type `help` to see what you can write, e.g. `alex> I had a rough day`)")
        return True
    try:
        await act(session, session.member(speaker.strip()), rest.strip())
    except (ValueError, LookupError) as error:
        session.context.say(f"  (couldn't do that: {error})")
    except TimeoutError as error:
        session.context.say(f"  (Heard didn't answer in time: {error})")
    except Exception as error:  # the sandbox refuses what Discord would refuse; keep the session going
        log.debug("line failed", exc_info=True)
        session.context.say(f"  ({error})")
    return True


async def act(session: Session, user: Any, rest: str) -> None:
    """Carry out what ``user`` typed after ``NAME>``."""
    context = session.context
    if not rest:
        raise ValueError("write something after the >")
    word, _, remainder = rest.partition(" ")
    if rest.startswith("/"):
        command, options = parse_command(session, rest[1:])
        await context.slash(user, command, **options)
    elif word == "reply":
        number, _, message = remainder.partition(" ")
        target = session.message_number(number)
        await context.member_says(
            user, session.sandbox.world.channels[target.channel_id], message, reply_to=target
        )
    elif word == "delete":
        target = session.message_number(remainder.strip())
        if target.author_id != user.id:
            raise ValueError(f"message #{target.serial} is not {user.name}'s to delete")
        await session.sandbox.delete_message(target)
    elif word == "dm":
        record = await session.sandbox.dm_bot(user, remainder)
        session.context.transcript.member_message(record)
        session.context.shown_message_ids.add(record.id)
    elif word == "thread":
        forum_name, _, title_and_text = remainder.partition(" ")
        title, _, message = title_and_text.partition("|")
        await context.start_thread(user, session.channel_named(forum_name), title.strip(), message.strip())
    elif word == "click":
        number, _, label = remainder.partition(" ")
        await context.click(user, session.message_number(number), label.strip())
    elif word == "menu":
        number, _, name = remainder.partition(" ")
        await context.message_menu(user, name.strip(), session.message_number(number))
    elif word.startswith("#"):
        session.channel = session.channel_named(word)
        await context.member_says(user, session.channel, remainder)
    else:
        await context.member_says(user, session.channel, rest)


def parse_command(session: Session, text: str) -> tuple[str, dict[str, Any]]:
    """Split ``heard watch channel:#general`` into the command path and its option values."""
    parts = OPTION_SPLIT.split(text.strip())
    command = parts[0].strip()
    options: dict[str, Any] = {}
    for part in parts[1:]:
        name, _, value = part.partition(":")
        options[name.strip()] = session.option_value(value)
    if not command:
        raise ValueError("which command? e.g. /heard status")
    return command, options


def describe_world(session: Session) -> None:
    """Print the members, roles and channels of the sandbox server."""
    scene = session.context.scene
    context = session.context
    context.say(f"Server {scene.guild.name!r}:")
    for role in ("owner", "admin", "moderator", "alex", "sam", "jo", "riley"):
        user = getattr(scene, role, None)
        if user is not None:
            context.say(f"  {user.name:<8} ({role})" if role != user.name else f"  {user.name}")
    channels = sorted(scene.guild.channels.values(), key=lambda channel: channel.name)
    context.say(
        "  channels: " + ", ".join(f"#{channel.name}" for channel in channels if not channel.is_thread)
    )


def live_printer(session: Session) -> Callable[[Any], None]:
    """Return a sandbox observer printing what Heard posts, edits and deletes in channels and DMs.

    Answers to interactions are printed by the command that caused them, so they are skipped here.
    """
    world = session.sandbox.world
    context = session.context

    def observe(event: Any) -> None:
        if event.kind != "gateway-out" or not isinstance(event.detail, dict):
            return
        kind = event.detail.get("t")
        data = event.detail.get("d") or {}
        if kind == "MESSAGE_DELETE":
            deleted = world.messages.get(int(data.get("id", 0)))
            if deleted is not None:
                context.say(f"   (message #{deleted.serial} was deleted)")
            return
        if kind not in {"MESSAGE_CREATE", "MESSAGE_UPDATE"}:
            return
        record = world.messages.get(int(data.get("id", 0)))
        if record is None or record.author_id != world.bot_user.id or record.ephemeral:
            return
        if kind == "MESSAGE_UPDATE":
            context.show_edit(record)
        elif record.interaction_id is None:
            context.show_message(record)

    return observe


def start_stdin_reader(loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]) -> None:
    """Read stdin on a daemon thread and hand each line (None at end of input) to the event loop."""

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=read, name="heard-stdin", daemon=True).start()


async def run_sandbox_session(database_path: str | None = None, out: TextIO | None = None) -> int:
    """Run the sandbox, Heard and the typing loop until quit, end of input, SIGINT or SIGTERM."""
    from bot.app import configure_logging
    from bot.bot import HeardBot, start_until_serving
    from bot.sandbox import Sandbox
    from config import load_settings

    stream = out or sys.stdout
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    sandbox = await Sandbox.start()
    bot: HeardBot | None = None
    start_task: asyncio.Task[None] | None = None
    with tempfile.TemporaryDirectory(prefix="heard-sandbox-") as folder:
        try:
            scene = sandbox.world.seed_default()
            settings = load_settings(
                discord_token=sandbox.token,
                discord_api_base=sandbox.api_base,
                discord_gateway_url=sandbox.gateway_url,
                database_path=Path(database_path) if database_path else Path(folder) / "heard.sqlite3",
                dev_guild_id=None,
                application_id=None,
            )
            configure_logging(settings.log_level if "log_level" in settings.model_fields_set else "WARNING")
            bot = HeardBot(settings)
            start_task = await start_until_serving(bot, sandbox.token)
            transcript = Transcript(sandbox, stream)
            context = DemoContext(sandbox=sandbox, scene=scene, bot=bot, transcript=transcript)
            session = Session(
                context=context, out=stream, channel=scene.support, aliases=build_aliases(scene)
            )
            sandbox.on_event(live_printer(session))
            transcript.write(f"Heard is connected to the sandbox server {scene.guild.name!r}. Type `help`.")
            transcript.write(
                "Set it up first, e.g. `admin> /heard setup mod_channel:#mod-alerts role:@Moderators` "
                "and `admin> /heard watch channel:#support`."
            )
            await typing_loop(session, stop)
        finally:
            if bot is not None:
                await bot.close()
            if start_task is not None:
                await asyncio.gather(start_task, return_exceptions=True)
            await sandbox.stop()
            for signal_number in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signal_number)
    return 0


async def typing_loop(session: Session, stop: asyncio.Event) -> None:
    """Handle typed lines one at a time until quit, end of input, or ``stop``."""
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    start_stdin_reader(asyncio.get_running_loop(), lines)
    stopper = asyncio.create_task(stop.wait())
    try:
        while not stop.is_set():
            getter = asyncio.create_task(lines.get())
            done, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break
            line = getter.result()
            if line is None:
                break
            if not await handle_line(session, line):
                break
    finally:
        stopper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stopper

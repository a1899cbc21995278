"""The ``heard run``, ``heard sandbox`` and ``heard demo`` subcommands.

Heavy imports (discord.py, the sandbox) happen inside the handlers so other subcommands stay fast.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.bot import HeardBot
    from config import Settings

log = logging.getLogger("heard")

NO_TOKEN_HELP = """\
heard: no bot token. Set HEARD_DISCORD_TOKEN (in the environment or a .env file) to run on Discord.
To get a token:
  1. Open the Discord Developer Portal (https://discord.com/developers/applications) and press
     New Application.
  2. In its Bot tab, press Reset Token and copy the token; keep it secret.
  3. On the same tab, enable the Message Content intent (the one privileged intent Heard needs).
  4. Invite the bot with the link in README.md ("Connecting to real Discord").
No Discord account? `heard sandbox` runs Heard against a local pretend Discord and `heard demo`
plays a short scripted conversation; neither needs a token."""

QUIET_LOGGERS = (
    "discord.gateway",
    "discord.http",
    "discord.webhook.async_",
    "discord.state",
    "aiohttp.access",
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``run``, ``sandbox`` and ``demo`` subcommands."""
    run = subparsers.add_parser(
        "run",
        help="run Heard on Discord (or wherever HEARD_DISCORD_API_BASE points)",
        description="Run Heard. Settings come from HEARD_* environment variables or a .env file.",
    )
    run.set_defaults(handler=run_command)

    sandbox = subparsers.add_parser(
        "sandbox",
        help="run Heard against a local pretend Discord and type messages as its members",
        description="Start a local Discord-compatible sandbox (a support server) with Heard connected. "
        "Type lines like `alex> I had a rough day` and watch what Heard does. Type `help` for more.",
    )
    sandbox.add_argument(
        "--db", metavar="PATH", default=None, help="keep Heard's database in PATH (default: a temporary file)"
    )
    sandbox.set_defaults(handler=sandbox_command)

    demo = subparsers.add_parser(
        "demo",
        help="play a short scripted support conversation through Heard and print the transcript",
        description="Play a scripted support conversation through the real bot in the local sandbox, "
        "printing what members wrote and what Heard did. Needs no token.",
    )
    demo.set_defaults(handler=demo_command)


def configure_logging(level: str) -> None:
    """Log to stderr at ``level``; discord.py's payload-level loggers never go below INFO (privacy)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_drop_voice_warnings)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLevelName(level)))


def _drop_voice_warnings(record: logging.LogRecord) -> bool:
    """Hide discord.py's start-up warnings about voice libraries (Heard never uses voice)."""
    return not (record.name == "discord.client" and "voice will NOT be supported" in record.getMessage())


def run_command(args: argparse.Namespace) -> int:
    """``heard run``: connect to Discord with the configured token until SIGINT/SIGTERM."""
    from config import load_settings

    settings = load_settings()
    configure_logging(settings.log_level)
    token = settings.token_value()
    if token is None:
        print(NO_TOKEN_HELP, file=sys.stderr)
        return 2
    return asyncio.run(_run(settings, token))


async def _run(settings: Settings, token: str) -> int:
    """Run the bot until a signal arrives; turn the usual start-up failures into one readable line."""
    import aiohttp
    import discord

    from bot.bot import HeardBot
    from bot.storage import DatabaseOpenError

    bot = HeardBot(settings)
    try:
        await serve_until_signalled(bot.start(token), bot)
    except DatabaseOpenError as error:
        print(f"heard: {error}; check HEARD_DATABASE_PATH.", file=sys.stderr)
        return 2
    except discord.LoginFailure:
        print(
            "heard: Discord refused the token in HEARD_DISCORD_TOKEN; reset it in the Developer Portal "
            "(Bot tab, Reset Token) and try again.",
            file=sys.stderr,
        )
        return 1
    except discord.PrivilegedIntentsRequired:
        print(
            "heard: the Message Content intent is not enabled; turn it on in the Developer Portal "
            "(Bot tab, Privileged Gateway Intents) and try again.",
            file=sys.stderr,
        )
        return 1
    except (aiohttp.ClientError, OSError) as error:
        print(
            f"heard: could not reach {settings.discord_api_base} ({error.__class__.__name__}); "
            "check your network or HEARD_DISCORD_API_BASE.",
            file=sys.stderr,
        )
        return 1
    return 0


async def serve_until_signalled(main: Coroutine[Any, Any, Any], bot: HeardBot) -> None:
    """Run ``main`` until it ends or SIGINT/SIGTERM arrives, then close ``bot`` cleanly."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    main_task = asyncio.create_task(main, name="heard-main")
    stop_task = asyncio.create_task(stop.wait(), name="heard-signal")
    try:
        await asyncio.wait({main_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if stop.is_set():
            log.info("signal received; shutting down")
        stop_task.cancel()
        await bot.close()
        if not main_task.done():
            main_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await main_task
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signal_number)


def sandbox_command(args: argparse.Namespace) -> int:
    """``heard sandbox``: the sandbox + Heard, driven by lines typed on stdin."""
    from bot.storage import DatabaseOpenError
    from bot.terminal import run_sandbox_session

    try:
        return asyncio.run(run_sandbox_session(database_path=args.db))
    except DatabaseOpenError as error:
        print(f"heard: {error}; check --db.", file=sys.stderr)
        return 2


def demo_command(args: argparse.Namespace) -> int:
    """``heard demo``: play the scripted conversation and print its transcript."""
    from bot.demo import run_demo

    return asyncio.run(run_demo())

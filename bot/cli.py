"""The ``heard`` command line: one entry point, subcommands registered by the modules that own them."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each module exposes ``register(subparsers)`` and keeps its heavy imports inside its handlers,
# so that ``heard analyze`` does not pay for importing discord.py.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "bot.app",  # run, sandbox, demo
    "bot.listening.cli",  # analyze, reflect, eval, bench
    "bot.replay.cli",  # replay
)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every available subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="heard",
        description="Heard: helps peer-support communities on Discord listen well.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name == module_name:
                continue  # that capability is not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``heard`` command line and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""The Heard bot: a small ``commands.Bot`` subclass wiring settings, storage, cogs and the command tree."""

from __future__ import annotations

import asyncio
import importlib
import logging
import pkgutil
from collections.abc import Coroutine
from typing import Any

import discord
import yarl
from discord.ext import commands

from bot.listening import warm_up as warm_up_listening_engine
from bot.storage.database import Database
from bot.storage.guilds import GuildConfigRepository
from bot.tree import HeardTree
from config import Settings

log = logging.getLogger(__name__)

EXTENSIONS_PACKAGE = "cogs"


def heard_intents() -> discord.Intents:
    """Return the minimal gateway intents Heard needs (Message Content is the one privileged intent)."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.message_content = True
    intents.dm_messages = True
    return intents


def safe_allowed_mentions() -> discord.AllowedMentions:
    """Return mentions that can never ping @everyone or a role unless a message asks for it explicitly."""
    return discord.AllowedMentions(everyone=False, roles=False, users=True, replied_user=False)


def point_discord_at(settings: Settings) -> None:
    """Send discord.py's REST calls and gateway connection to the hosts named in the settings."""
    discord.http.Route.BASE = settings.discord_api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


def discover_extensions(package_name: str = EXTENSIONS_PACKAGE) -> list[str]:
    """Return the dotted names of every module in ``package_name`` that is an extension.

    A module is an extension when its name does not start with ``_`` and it defines ``setup``.
    """
    package = importlib.import_module(package_name)
    names: list[str] = []
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda info: info.name):
        if module_info.name.startswith("_"):
            continue
        dotted = f"{package_name}.{module_info.name}"
        if hasattr(importlib.import_module(dotted), "setup"):
            names.append(dotted)
    return names


class HeardBot(commands.Bot):
    """Heard's Discord client: opens storage, loads every cog, syncs commands, shuts down cleanly."""

    db: Database
    guild_configs: GuildConfigRepository

    def __init__(
        self,
        settings: Settings,
        *,
        extensions_package: str = EXTENSIONS_PACKAGE,
        guild_ready_timeout: float = 2.0,
    ) -> None:
        """Build the bot from ``settings`` (nothing connects until :meth:`start`).

        ``guild_ready_timeout`` is how long discord.py waits for more guilds before READY counts as done;
        tests against the local sandbox shorten it (:meth:`wait_until_serving` still waits for every guild).
        """
        options: dict[str, Any] = {}
        if settings.application_id is not None:
            options["application_id"] = settings.application_id
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=heard_intents(),
            allowed_mentions=safe_allowed_mentions(),
            tree_cls=HeardTree,
            guild_ready_timeout=guild_ready_timeout,
            **options,
        )
        self.settings = settings
        self.extensions_package = extensions_package
        self.commands_synced = asyncio.Event()
        self._guilds_available = asyncio.Event()
        self.synced_command_names: tuple[str, ...] = ()
        self._background_tasks: set[asyncio.Task[Any]] = set()
        self._closing = False

    async def login(self, token: str) -> None:
        """Point discord.py at the configured hosts, then log in."""
        point_discord_at(self.settings)
        await super().login(token)

    async def setup_hook(self) -> None:
        """Open storage (applying migrations), load every cog, and sync the command tree."""
        self.db = await Database.open(self.settings.database_path)
        self.guild_configs = GuildConfigRepository(self.db)
        # Compiling the engine's tables takes seconds: do it now, off the event loop, not on a message.
        await asyncio.to_thread(warm_up_listening_engine)
        for extension in discover_extensions(self.extensions_package):
            await self.load_extension(extension)
            log.debug("loaded extension %s", extension)
        log.info("loaded %d extensions", len(self.extensions))
        await self.sync_commands()

    async def sync_commands(self) -> None:
        """Sync the command tree to the dev guild if one is set, else globally; never crash on failure."""
        guild = discord.Object(id=self.settings.dev_guild_id) if self.settings.dev_guild_id else None
        try:
            if guild is not None:
                self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        except discord.HTTPException as error:
            log.error("could not sync commands (status %s, code %s)", error.status, error.code)
            return
        self.synced_command_names = tuple(sorted(command.name for command in synced))
        where = f"guild {guild.id}" if guild is not None else "globally"
        log.info("synced %d commands %s", len(synced), where)
        self.commands_synced.set()

    async def wait_until_serving(self) -> None:
        """Wait until the gateway is ready, every guild is loaded and the commands are synced.

        Wrap it in ``asyncio.timeout``.
        """
        await self.wait_until_ready()
        await self._guilds_available.wait()
        await self.commands_synced.wait()

    async def on_ready(self) -> None:
        """Log that Heard is connected (ids and counts only)."""
        log.info("connected as %s in %d guilds", self.user.id if self.user else "?", len(self.guilds))
        self._note_guild_availability()

    async def on_message(self, message: discord.Message, /) -> None:
        """Do nothing: Heard has no prefix commands (cogs listen to messages themselves).

        The default would treat "@Heard hello" as an unknown command and log its text.
        """

    async def on_guild_available(self, guild: discord.Guild) -> None:
        """Note that one more guild finished loading."""
        self._note_guild_availability()

    def _note_guild_availability(self) -> None:
        """Set the all-guilds-loaded flag once READY is done and no guild is still unavailable."""
        if self.is_ready() and not any(guild.unavailable for guild in self.guilds):
            self._guilds_available.set()

    def start_background_task(self, coroutine: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Run ``coroutine`` as a task that :meth:`close` cancels and awaits; failures are logged."""
        task = asyncio.create_task(coroutine, name=name)
        self._background_tasks.add(task)
        task.add_done_callback(self._background_task_done)
        return task

    def _background_task_done(self, task: asyncio.Task[Any]) -> None:
        """Forget a finished background task and log it if it failed."""
        self._background_tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.error(
                "background task %s failed",
                task.get_name(),
                exc_info=(type(error), error, error.__traceback__),
            )

    @property
    def is_shutting_down(self) -> bool:
        """Whether :meth:`close` has started."""
        return self._closing

    async def close(self) -> None:
        """Stop background tasks, unload cogs, disconnect, then close the database after pending writes."""
        if self._closing:
            return
        self._closing = True
        log.info("shutting down")
        tasks = list(self._background_tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await super().close()
        finally:
            database = getattr(self, "db", None)
            if database is not None:
                await database.close()


async def start_until_serving(bot: HeardBot, token: str, *, within: float = 60.0) -> asyncio.Task[None]:
    """Start ``bot`` as a task and return it once the bot is serving (waiting at most ``within`` s).

    If the bot stops first (bad token, unreachable host, a broken cog) its error is raised here; on
    timeout the bot is closed and ``TimeoutError`` raised: nothing hangs silently.
    """
    task = asyncio.create_task(bot.start(token), name="heard-bot")
    serving = asyncio.create_task(bot.wait_until_serving(), name="heard-serving")
    try:
        async with asyncio.timeout(within):
            done, _ = await asyncio.wait({task, serving}, return_when=asyncio.FIRST_COMPLETED)
    except TimeoutError:
        serving.cancel()
        await bot.close()
        await asyncio.gather(task, return_exceptions=True)
        raise
    if serving in done:
        return task
    serving.cancel()
    await bot.close()
    task.result()  # raises the start-up error, if any
    raise RuntimeError("Heard stopped before it was ready")

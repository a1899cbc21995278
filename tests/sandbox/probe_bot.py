"""A small discord.py bot used only by the sandbox fidelity tests (it knows nothing of Heard)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.sandbox.records import ChangeNotifier

T = TypeVar("T")


class EventLog:
    """Every gateway-driven event the probe bot saw, with condition-based waiting."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, Any]] = []
        self.errors: list[BaseException] = []
        self._notifier = ChangeNotifier()

    def add(self, name: str, value: Any) -> None:
        """Record one event."""
        self.entries.append((name, value))
        self._notifier.notify()

    def of(self, name: str) -> list[Any]:
        """Every recorded value of one event name."""
        return [value for entry, value in self.entries if entry == name]

    async def wait_for(
        self,
        name: str,
        check: Callable[[Any], bool] = lambda v: True,
        timeout: float = 30,  # noqa: ASYNC109
    ) -> Any:
        """Wait for an event of this name whose value passes ``check``."""

        def found() -> Any:
            return next((value for value in self.of(name) if check(value)), None)

        return await self._notifier.wait_for(found, timeout=timeout, what=f"probe event {name}")


class ProbeView(discord.ui.View):
    """A persistent-style view with one button that edits its message."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Acknowledge", custom_id="probe:ack", style=discord.ButtonStyle.primary)
    async def acknowledge(
        self, interaction: discord.Interaction, button: discord.ui.Button[ProbeView]
    ) -> None:
        button.disabled = True
        await interaction.response.edit_message(content=f"acknowledged by {interaction.user.id}", view=self)

    @discord.ui.button(label="Later", custom_id="probe:later", style=discord.ButtonStyle.secondary)
    async def later(self, interaction: discord.Interaction, button: discord.ui.Button[ProbeView]) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content="handled later")


class ChoiceView(discord.ui.View):
    """A string select and a user select that report what was picked."""

    @discord.ui.select(
        custom_id="probe:topic",
        options=[
            discord.SelectOption(label="Sleep", value="sleep"),
            discord.SelectOption(label="Work", value="work"),
        ],
    )
    async def topic(self, interaction: discord.Interaction, select: discord.ui.Select[ChoiceView]) -> None:
        await interaction.response.send_message(f"topic={select.values}", ephemeral=True)

    @discord.ui.select(cls=discord.ui.UserSelect, custom_id="probe:who")
    async def who(self, interaction: discord.Interaction, select: discord.ui.UserSelect[ChoiceView]) -> None:
        await interaction.response.send_message(f"who={[user.id for user in select.values]}", ephemeral=True)


class NoticeLayout(discord.ui.LayoutView):
    """A components-v2 message."""

    notice: discord.ui.TextDisplay[NoticeLayout] = discord.ui.TextDisplay("A gentle notice")


class ProbeModal(discord.ui.Modal, title="Tell us more"):
    """A modal with one required text field."""

    feeling: discord.ui.TextInput[ProbeModal] = discord.ui.TextInput(
        label="How are you?", custom_id="probe:feeling", max_length=200
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.feeling.value}", ephemeral=True)


class ProbeCog(commands.Cog):
    """Slash commands exercising each interaction response path."""

    probe = app_commands.Group(name="probe", description="Sandbox probe commands")
    config = app_commands.Group(name="config", description="Configure things", parent=probe)

    def __init__(self, bot: ProbeBot) -> None:
        self.bot = bot

    @probe.command(name="echo", description="Echo the options back")
    async def echo(
        self,
        interaction: discord.Interaction,
        text: str,
        times: int = 1,
        loud: bool = False,
        channel: discord.TextChannel | None = None,
        role: discord.Role | None = None,
        member: discord.Member | None = None,
    ) -> None:
        parts = [
            text * times,
            str(loud),
            str(channel.id if channel else None),
            str(role.id if role else None),
            str(member.id if member else None),
            type(interaction.user).__name__,
        ]
        await interaction.response.send_message("|".join(parts), ephemeral=True)

    @config.command(name="level", description="Pick a level")
    async def level(self, interaction: discord.Interaction, level: Literal["low", "high"]) -> None:
        await interaction.response.send_message(f"level={level}")

    @probe.command(name="slow", description="Defer, edit the original, then follow up")
    async def slow(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.edit_original_response(content="done thinking")
        original = await interaction.original_response()
        await interaction.followup.send(f"one more thing after {original.content}", ephemeral=True)

    @probe.command(name="think", description="Defer publicly, answer with a follow-up")
    async def think(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("the answer")

    @probe.command(name="form", description="Open a modal")
    async def form(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(ProbeModal())

    @probe.command(name="panel", description="Post a message with a button")
    async def panel(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("panel", view=ProbeView())

    @probe.command(name="file", description="Answer with a file")
    async def file(self, interaction: discord.Interaction) -> None:
        attachment = discord.File(io.BytesIO(b"col\n1\n"), filename="report.csv")
        await interaction.response.send_message("here", file=attachment, ephemeral=True)

    @probe.command(name="pick", description="Autocompleted option")
    async def pick(self, interaction: discord.Interaction, topic: str) -> None:
        await interaction.response.send_message(f"picked {topic}", ephemeral=True)

    @pick.autocomplete("topic")
    async def pick_topic(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        topics = ["sleep", "stress", "study", "family"]
        return [app_commands.Choice(name=t.title(), value=t) for t in topics if t.startswith(current)]

    @probe.command(name="choose", description="Selects")
    async def choose(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("choose", view=ChoiceView())

    @probe.command(name="layout", description="A components v2 message")
    async def layout(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(view=NoticeLayout(), ephemeral=True)

    @probe.command(name="upload", description="Read an attached file")
    async def upload(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        data = await file.read()
        await interaction.response.send_message(f"{file.filename}:{data.decode()}", ephemeral=True)

    @probe.command(name="tidy", description="Reply, follow up, edit the follow-up, delete the reply")
    async def tidy(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("temporary")
        followup = await interaction.followup.send("followup", wait=True)
        await followup.edit(content="followup edited")
        await interaction.delete_original_response()

    @app_commands.command(name="admin-only", description="Needs Manage Server")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def admin_only(self, interaction: discord.Interaction) -> None:
        allowed = interaction.permissions.manage_guild
        await interaction.response.send_message(f"manage_guild={allowed}", ephemeral=True)


class ProbeBot(commands.Bot):
    """A commands.Bot that records what it sees and answers a few text triggers."""

    def __init__(self, *, intents: discord.Intents | None = None) -> None:
        if intents is None:
            intents = discord.Intents.default()
            intents.message_content = True
            intents.members = True
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.1)
        self.log = EventLog()

    async def setup_hook(self) -> None:
        await self.add_cog(ProbeCog(self))
        self.tree.add_command(app_commands.ContextMenu(name="Probe user", callback=self._probe_user))
        self.tree.add_command(app_commands.ContextMenu(name="Probe message", callback=self._probe_message))
        self.add_view(ProbeView())
        await self.tree.sync()

    async def _probe_user(self, interaction: discord.Interaction, member: discord.Member) -> None:
        await interaction.response.send_message(f"user {member.id} {member.display_name}", ephemeral=True)

    async def _probe_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.send_message(f"message {message.id}: {message.content}", ephemeral=True)

    async def on_message(self, message: discord.Message) -> None:
        self.log.add("message", message)
        if message.author.bot:
            return
        if message.content == "ping":
            await message.reply("pong")

    async def on_message_edit(self, before: discord.Message, after: discord.Message) -> None:
        self.log.add("message_edit", after)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        self.log.add("raw_message_edit", payload)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        self.log.add("raw_message_delete", payload)

    async def on_thread_create(self, thread: discord.Thread) -> None:
        self.log.add("thread_create", thread)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        self.log.add("guild_join", guild)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        self.log.add("guild_remove", guild)

    async def on_guild_channel_create(self, channel: discord.abc.GuildChannel) -> None:
        self.log.add("channel_create", channel)

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        self.log.add("channel_delete", channel)

    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        self.log.add("member_update", after)

    async def on_member_join(self, member: discord.Member) -> None:
        self.log.add("member_join", member)

    async def on_member_remove(self, member: discord.Member) -> None:
        self.log.add("member_remove", member)

    async def on_guild_role_delete(self, role: discord.Role) -> None:
        self.log.add("role_delete", role)

    async def on_guild_channel_update(
        self, before: discord.abc.GuildChannel, after: discord.abc.GuildChannel
    ) -> None:
        self.log.add("channel_update", after)

    async def on_resumed(self) -> None:
        self.log.add("resumed", True)

    async def on_ready(self) -> None:
        self.log.add("ready", True)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        import sys

        error = sys.exc_info()[1]
        if error is not None:
            self.log.errors.append(error)
        await super().on_error(event_method, *args, **kwargs)

"""HeardTree: several cogs declaring the same ``/heard`` group end up as one command with all subcommands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot.bot import HeardBot
from config import Settings


class FirstCog(commands.Cog):
    heard = app_commands.Group(name="heard", description="Heard setup and moderation", guild_only=True)

    @heard.command(name="first", description="First")
    async def first(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message("first", ephemeral=True)


class SecondCog(commands.Cog):
    heard = app_commands.Group(name="heard", description="Heard setup and moderation", guild_only=True)

    @heard.command(name="second", description="Second")
    async def second(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message("second", ephemeral=True)


class ClashingCog(commands.Cog):
    heard = app_commands.Group(name="heard", description="Heard setup and moderation")

    @heard.command(name="first", description="Another first")
    async def first(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message("other", ephemeral=True)


def make_bot(tmp_path: Path) -> HeardBot:
    return HeardBot(Settings(_env_file=None, database_path=tmp_path / "heard.sqlite3"))  # type: ignore[call-arg]


def heard_children(bot: HeardBot) -> dict[str, Any]:
    group = bot.tree.get_command("heard")
    assert isinstance(group, app_commands.Group)
    return {child.name: child for child in group.commands}


async def test_groups_of_the_same_name_merge(tmp_path: Path) -> None:
    bot = make_bot(tmp_path)
    first, second = FirstCog(), SecondCog()
    await bot.add_cog(first)
    await bot.add_cog(second)

    children = heard_children(bot)
    assert set(children) == {"first", "second"}
    assert children["first"].binding is first and children["second"].binding is second
    assert [command.name for command in bot.tree.get_commands()] == ["heard"]
    payload = bot.tree.get_command("heard").to_dict(bot.tree)  # type: ignore[union-attr]
    assert sorted(option["name"] for option in payload["options"]) == ["first", "second"]


async def test_unloading_one_cog_keeps_the_others_subcommands(tmp_path: Path) -> None:
    bot = make_bot(tmp_path)
    await bot.add_cog(FirstCog())
    await bot.add_cog(SecondCog())
    await bot.remove_cog("FirstCog")
    assert set(heard_children(bot)) == {"second"}
    await bot.add_cog(FirstCog())  # reloading brings it back
    assert set(heard_children(bot)) == {"first", "second"}
    await bot.remove_cog("FirstCog")
    await bot.remove_cog("SecondCog")
    assert bot.tree.get_command("heard") is None


async def test_a_clashing_subcommand_is_refused_without_changing_anything(tmp_path: Path) -> None:
    bot = make_bot(tmp_path)
    await bot.add_cog(FirstCog())
    with pytest.raises(app_commands.CommandAlreadyRegistered):
        await bot.add_cog(ClashingCog())
    assert set(heard_children(bot)) == {"first"}

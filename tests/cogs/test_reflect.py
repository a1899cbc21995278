"""/reflect and the "Suggest a reflection" message menu, through the sandbox with real discord.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.bot import HeardBot
from tests.cogs.member_helpers import POST, SOFTWARE_LINE, TIMEOUT, answer

StartHeard = Callable[..., Awaitable[HeardBot]]


def bullet_lines(text: str) -> list[str]:
    """Return the suggestion lines of a reflection answer."""
    return [line for line in text.splitlines() if line.startswith("• ")]


async def test_reflect_answers_privately_with_reflections_a_question_feelings_and_the_software_line(
    sandbox: Any, heard: HeardBot
) -> None:
    response = await answer(sandbox, sandbox.scene.jo, "reflect", text=POST)
    assert response.ephemeral
    text = response.content
    assert "Ways you could reflect this back" in text
    assert 2 <= len(bullet_lines(text)) <= 3
    assert "A question you could ask after that:" in text
    assert "Feelings I noticed:" in text
    assert SOFTWARE_LINE in text
    assert "barely sleep and i feel like i'm failing" not in text  # paraphrased, not parroted whole
    labels = [c.get("label") for row in response.components for c in row.get("components", [])]
    assert labels == ["Other ideas"]


async def test_other_ideas_shows_different_wording(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    interaction = await sandbox.slash(scene.jo, scene.guild, "reflect", text=POST)
    first = await interaction.response(timeout=TIMEOUT)
    first_lines = bullet_lines(first.content)  # read now: the record shows the message as it is later
    original = await interaction.original(timeout=TIMEOUT)
    (custom_id,) = original.custom_ids()
    click = await sandbox.click(scene.jo, original, custom_id)
    update = await click.response(timeout=TIMEOUT)
    assert update.type == 7  # the ephemeral answer is updated in place
    assert bullet_lines(update.content) and bullet_lines(update.content) != first_lines
    assert SOFTWARE_LINE in update.content


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("   ", "nothing here"),
        ("x" * 4001, "4,000 characters"),
        ("😭😭😭", "emoji only"),
        ("https://example.com/thread/123", "just a link"),
        ("```\nprint('hello')\n```", "code block"),
        ("<@123456789012345678> @everyone", "mentions"),
    ],
)
async def test_bad_input_gets_a_clear_private_answer(
    sandbox: Any, heard: HeardBot, text: str, expected: str
) -> None:
    response = await answer(sandbox, sandbox.scene.jo, "reflect", text=text)
    assert response.ephemeral and expected in response.content


async def test_markdown_mentions_and_long_text_still_get_reflections_without_pinging(
    sandbox: Any, heard: HeardBot
) -> None:
    scene = sandbox.scene
    text = f"**honestly** <@{scene.alex.id}> i'm so lonely since the move ~~lol~~ " + "and tired " * 380
    response = await answer(sandbox, scene.jo, "reflect", text=text[:4000])
    assert response.ephemeral and bullet_lines(response.content)
    assert response.data.get("allowed_mentions", {}).get("parse") == []


async def test_suggest_a_reflection_on_any_visible_message(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    post = await sandbox.member_says(scene.alex, scene.general, POST)
    interaction = await sandbox.message_menu(scene.jo, scene.guild, "Suggest a reflection", post)
    response = await interaction.response(timeout=TIMEOUT)
    assert response.ephemeral
    assert bullet_lines(response.content) and SOFTWARE_LINE in response.content


async def test_suggest_a_reflection_on_an_emoji_only_message_explains_kindly(
    sandbox: Any, heard: HeardBot
) -> None:
    scene = sandbox.scene
    message = await sandbox.member_says(scene.alex, scene.general, "💀💀💀")
    interaction = await sandbox.message_menu(scene.jo, scene.guild, "Suggest a reflection", message)
    response = await interaction.response(timeout=TIMEOUT)
    assert response.ephemeral and "emoji only" in response.content


async def test_reflect_and_nudges_work_in_a_dm_with_heard(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    interaction = await sandbox.slash(scene.jo, None, "reflect", text=POST)
    response = await interaction.response(timeout=TIMEOUT)
    assert response.ephemeral and bullet_lines(response.content)
    off = await (await sandbox.slash(scene.jo, None, "nudges off")).response(timeout=TIMEOUT)
    assert off.ephemeral and "/nudges on" in off.content

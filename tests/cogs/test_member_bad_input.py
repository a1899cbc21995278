"""Bad input on /reflect and /coach: each odd text gets a private, sensible answer that pings no one."""

from __future__ import annotations

from typing import Any

import pytest

from bot.bot import HeardBot
from bot.replies import SORRY
from tests.cogs.member_helpers import SOFTWARE_LINE, TIMEOUT

ZALGO = "i̷̢͎ ̵f̴e̶e̷l̸ ̵s̵o̸ ̶t̷i̵r̴e̸d̶ ̷a̵n̵d̸ ̸a̸l̷o̵n̵e̷"
BAD_INPUTS: dict[str, str] = {
    "whitespace": " \n\t ",
    "zero-width only": "\u200b\u200c\u200d\ufeff",
    "4,000 characters": ("i'm so tired and nobody listens to me. " * 110)[:4000],
    "4,001 characters": "y" * 4001,
    "zalgo": ZALGO,
    "right-to-left": "أشعر بالوحدة والتعب كل يوم",
    "bidi override": "\u202ei feel so alone lately\u202c",
    "zero-width inside words": "i\u200b feel\u200d so\u200b lost",
    "markdown": "**honestly** _i feel_ ~~fine~~ > like a *failure* ||lol||",
    "everyone and here": "@everyone @here i'm scared and i don't know what to do",
    "user and role mentions": "<@123456789012345678> <@&223456789012345678> i feel left out",
    "mentions only": "<@&223456789012345678> @everyone",
    "code block only": "```py\nprint('hello')\n```",
    "code block and words": "i feel stuck `again` ```\nerror\n``` and worried",
    "link only": "https://example.com/thread/123",
    "link and words": "i read https://example.com and now i feel worse about myself",
}
PROBLEM_WORDS = ("Paste the", "paste its words", "paste the part")  # each bad-input sentence asks for words


@pytest.mark.parametrize(("command", "option"), [("reflect", "text"), ("coach", "draft")])
async def test_member_commands_answer_every_bad_input_privately_and_sensibly(
    sandbox: Any, heard: HeardBot, command: str, option: str
) -> None:
    scene = sandbox.scene
    for label, text in BAD_INPUTS.items():
        interaction = await sandbox.slash(scene.jo, scene.guild, command, **{option: text})
        first = await interaction.response(timeout=TIMEOUT)
        final = await interaction.original(timeout=TIMEOUT)  # the answer, after any "thinking"
        assert first.ephemeral and final.ephemeral, label
        content = final.content
        assert content.strip(), label
        assert SORRY not in content and "Traceback" not in content, label
        assert SOFTWARE_LINE in content or any(word in content for word in PROBLEM_WORDS), (label, content)
        parse = (first.data.get("allowed_mentions") or {}).get("parse", [])
        assert "everyone" not in parse and "roles" not in parse, label

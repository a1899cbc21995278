"""/coach and the "Check my reply" message menu, through the sandbox with real discord.py."""

from __future__ import annotations

from typing import Any

from bot.bot import HeardBot
from bot.listening import analyze
from tests.cogs.member_helpers import ADVICE, KIND, POST, SOFTWARE_LINE, TIMEOUT, answer


def roadblock_quotes(draft: str, post: str | None = None) -> list[str]:
    """Return the words the engine quotes for each roadblock in ``draft`` (what the answer should show)."""
    analysis = analyze(draft, post=post)
    assert analysis.roadblocks, "the example draft should have a roadblock"
    return [draft[start:end] for start, end in (roadblock.span for roadblock in analysis.roadblocks)]


async def test_coach_points_out_roadblocks_with_the_quoted_words_reason_and_try_instead(
    sandbox: Any, heard: HeardBot
) -> None:
    response = await answer(sandbox, sandbox.scene.sam, "coach", draft=ADVICE)
    assert response.ephemeral
    text = response.content
    assert "Worth another look" in text
    assert all(f"“{quoted}" in text for quoted in roadblock_quotes(ADVICE))
    assert "Try" in text.split("Worth another look", 1)[1]
    assert SOFTWARE_LINE in text


async def test_coach_recognises_what_a_kind_draft_does_well(sandbox: Any, heard: HeardBot) -> None:
    response = await answer(sandbox, sandbox.scene.sam, "coach", draft=KIND)
    assert response.ephemeral
    assert "What your reply already does well" in response.content
    assert "Worth another look" not in response.content


async def test_coach_in_someone_elses_thread_suggests_an_opening_reflection_for_its_post(
    sandbox: Any, heard: HeardBot
) -> None:
    scene = sandbox.scene
    thread = await sandbox.start_thread(scene.alex, scene.vent, "so tired", POST)
    interaction = await sandbox.slash(scene.sam, scene.guild, "coach", in_channel=thread, draft=ADVICE)
    response = await interaction.response(timeout=TIMEOUT)
    assert response.ephemeral
    answer_message = await interaction.original(timeout=TIMEOUT)  # the answer, after any "thinking"
    assert answer_message.ephemeral
    assert "An opening reflection for the post you're answering" in answer_message.content


async def test_bad_drafts_get_a_clear_private_answer(sandbox: Any, heard: HeardBot) -> None:
    for draft, expected in (
        ("  \n ", "nothing here"),
        ("y" * 4001, "4,000 characters"),
        ("🙏", "emoji only"),
    ):
        response = await answer(sandbox, sandbox.scene.sam, "coach", draft=draft)
        assert response.ephemeral and expected in response.content


async def test_check_my_reply_uses_the_post_it_answers(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    post = await sandbox.member_says(scene.alex, scene.general, POST)
    reply = await sandbox.member_says(scene.sam, scene.general, ADVICE, reply_to=post.id)
    interaction = await sandbox.message_menu(scene.sam, scene.guild, "Check my reply", reply)
    first = await interaction.response(timeout=TIMEOUT)
    assert first.ephemeral
    final = await interaction.original(timeout=TIMEOUT)
    assert final.ephemeral
    assert "Worth another look" in final.content
    assert all(f"“{quoted}" in final.content for quoted in roadblock_quotes(ADVICE, POST))
    assert "An opening reflection for the post you're answering" in final.content
    assert SOFTWARE_LINE in final.content


async def test_check_my_reply_on_someone_elses_message_explains_kindly(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    reply = await sandbox.member_says(scene.sam, scene.general, ADVICE)
    interaction = await sandbox.message_menu(scene.jo, scene.guild, "Check my reply", reply)
    response = await interaction.response(timeout=TIMEOUT)
    assert response.ephemeral and "only works on your own messages" in response.content


async def test_every_member_facing_answer_is_ephemeral(sandbox: Any, heard: HeardBot) -> None:
    scene = sandbox.scene
    post = await sandbox.member_says(scene.alex, scene.general, POST)
    reply = await sandbox.member_says(scene.sam, scene.general, ADVICE, reply_to=post.id)
    interactions = [
        await sandbox.slash(scene.sam, scene.guild, "reflect", text=POST),
        await sandbox.slash(scene.sam, scene.guild, "reflect", text="   "),
        await sandbox.slash(scene.sam, scene.guild, "coach", draft=ADVICE),
        await sandbox.slash(scene.sam, scene.guild, "coach", draft="🙏🙏"),
        await sandbox.message_menu(scene.sam, scene.guild, "Suggest a reflection", post),
        await sandbox.message_menu(scene.sam, scene.guild, "Check my reply", reply),
        await sandbox.message_menu(scene.jo, scene.guild, "Check my reply", reply),
        await sandbox.slash(scene.sam, scene.guild, "nudges off"),
        await sandbox.slash(scene.sam, scene.guild, "nudges status"),
        await sandbox.slash(scene.sam, scene.guild, "nudges on"),
    ]
    for interaction in interactions:
        response = await interaction.response(timeout=TIMEOUT)
        assert response.ephemeral, f"answer to {interaction.payload['data']['name']} is not ephemeral"
        final = await interaction.original(timeout=TIMEOUT)
        assert final.ephemeral and final.content
    posted = [m for m in sandbox.messages_in(scene.general.id) if m.author_id == sandbox.bot_user.id]
    assert posted == []  # nothing public

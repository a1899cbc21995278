"""Streamed reading of DiscordChatExporter exports: the sample, and malformed files with clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.replay.export import ExportError, ExportReader
from bot.replay.synthetic import write_export as write_synthetic
from tests.replay.helpers import SAMPLE, message, write_export


def read_all(path: Path) -> list[object]:
    """Read every message of an export (raising ExportError like replay would)."""
    with ExportReader(path) as reader:
        return list(reader.messages())


def error_for(path: Path) -> str:
    """Return the ExportError text reading ``path`` gives."""
    with pytest.raises(ExportError) as caught:
        read_all(path)
    return str(caught.value)


def test_sample_export_is_read_with_header_and_reply_reference() -> None:
    with ExportReader(SAMPLE) as reader:
        header = reader.header
        messages = list(reader.messages())
    assert (header.guild_id, header.channel_id, header.channel_name) == (
        "869237470565392384",
        "885169254029213696",
        "vent",
    )
    assert [m.type for m in messages] == ["Default", "Reply", "20"]
    assert messages[1].reference_id == messages[0].id
    assert messages[2].author_is_bot
    assert messages[0].content == "I feel like nobody listens to me at work"
    assert str(messages[0].day) == "2026-02-28"


def test_truncated_export_names_the_message_and_byte_where_it_ends(tmp_path: Path) -> None:
    full = write_synthetic(tmp_path / "full.json", 300).path.read_bytes()
    truncated = tmp_path / "truncated.json"
    truncated.write_bytes(full[: len(full) // 2])
    text = error_for(truncated)
    assert "ends early" in text
    assert "message #" in text and "after message #" in text
    assert f"at byte {len(full) // 2:,}" in text


def test_broken_json_names_the_message_and_a_byte_range(tmp_path: Path) -> None:
    path = write_export(tmp_path / "x.json", [message(1, "hello"), message(2, "there"), message(3, "again")])
    raw = path.read_text()
    broken = raw.replace('"content": "there"', '"content": "there",,')
    path.write_text(broken)
    text = error_for(path)
    assert "not valid JSON at message #2" in text
    assert "between byte" in text


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda m: m.update(content=42),
            "message #2 (id 2): field 'content' should be a string, found a number",
        ),
        (lambda m: m.pop("author"), "message #2 (id 2): field 'author' should be an object, found null"),
        (lambda m: m["author"].update(id=None), "field 'author.id' is missing"),
        (lambda m: m["author"].update(isBot="no"), "field 'author.isBot' should be true or false"),
        (lambda m: m.pop("id"), "message #2: field 'id' is missing"),
        (lambda m: m.update(id=[1]), "field 'id' should be a string id, found an array"),
        (lambda m: m.update(timestamp="yesterday"), "field 'timestamp' is not an ISO-8601 date"),
        (lambda m: m.update(timestamp=None), "field 'timestamp' should be a string, found null"),
        (lambda m: m.update(reference="3"), "field 'reference' should be an object, found a string"),
        (lambda m: m.update(type=20), "field 'type' should be a string, found a number"),
    ],
)
def test_wrong_types_name_the_message_and_field(tmp_path: Path, mutate: object, expected: str) -> None:
    items = [message(1, "hello"), message(2, "there"), message(3, "again")]
    mutate(items[1])  # type: ignore[operator]
    assert expected in error_for(write_export(tmp_path / "x.json", items))


def test_message_that_is_not_an_object(tmp_path: Path) -> None:
    path = write_export(tmp_path / "x.json", [message(1, "hi")])
    document = json.loads(path.read_text())
    document["messages"].append("oops")
    path.write_text(json.dumps(document))
    assert "message #2 should be an object, found a string" in error_for(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "not valid JSON"),
        ("[1, 2, 3]", "the top level should be an object"),
        ('{"guild": {"id": "1"}, "messages": {"a": 1}}', "'messages' should be an array, found an object"),
        ('{"guild": {"id": "1"}}', "no top-level 'messages' array"),
        ("\x00\x01garbage", "not valid JSON"),
    ],
)
def test_files_that_are_not_exports(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(text)
    with pytest.raises(ExportError, match=expected.replace("(", r"\(")):
        read_all(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="cannot open"):
        read_all(tmp_path / "nope.json")


def test_ids_may_be_numbers_and_odd_content_is_kept_verbatim(tmp_path: Path) -> None:
    odd = "‮ **bold** <@123> `code` https://example.com/x 🫶🏽 \u200b" + "ä" * 4000
    items = [message(1, odd)]
    items[0]["id"] = 1
    messages = read_all(write_export(tmp_path / "x.json", items))
    assert messages[0].id == "1"  # type: ignore[attr-defined]
    assert messages[0].content == odd  # type: ignore[attr-defined]

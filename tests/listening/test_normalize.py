"""The normaliser keeps spans pointing into the original text while cleaning it up for matching."""

from __future__ import annotations

from bot.listening.normalize import deleet, normalize


def test_lowercase_and_curly_quotes_keep_length() -> None:
    norm = normalize("You’re SO Dramatic")
    assert norm.text == "you're so dramatic"
    assert norm.offsets is None


def test_letter_runs_shrink_and_spans_map_back() -> None:
    original = "im sooooo tireddd"
    norm = normalize(original)
    assert "so tiredd" in norm.text
    start = norm.text.index("tiredd")
    span = norm.span(start, start + len("tiredd"))
    assert original[span[0] : span[1]] == "tireddd"


def test_markup_mentions_links_and_code_are_blanked_not_removed() -> None:
    original = "<@123456789012345678> **you** see https://x.y/z and ```kill``` `code`"
    norm = normalize(original)
    assert len(norm.text) == len(original)
    assert "123456" not in norm.text
    assert "https" not in norm.text
    assert "kill" not in norm.text
    assert "you" in norm.text


def test_creative_spellings_read_as_letters_for_crisis_matching() -> None:
    view = normalize("i want to k!ll mys3lf and unal1ve").text
    assert deleet(view) == "i want to kill myself and unalive"
    assert len(deleet(view)) == len(view)


def test_numbers_alone_are_not_turned_into_letters() -> None:
    view = normalize("i died 5 times in 2 hours").text
    assert deleet(view) == view


def test_odd_unicode_does_not_change_offsets() -> None:
    original = "İstanbul was hard"
    norm = normalize(original)
    assert len(norm.text) == len(original)


def test_plain_ascii_text_skips_the_character_table_without_changing_the_view() -> None:
    from bot.listening.normalize import _CHAR_TABLE, ASCII_CHANGES

    assert frozenset("*~|\t\r") == ASCII_CHANGES  # the characters normalize() checks for
    for text in ("plain words here", "a *bold* ~strike~ |spoiler| tab\there\r", "curly ’quote’ — dash"):
        assert normalize(text).text == text.lower().translate(_CHAR_TABLE)

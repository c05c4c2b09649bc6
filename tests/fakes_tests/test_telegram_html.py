"""Telegram HTML parsing: visible text, UTF-16 entity offsets, and Telegram's refusals."""

import pytest

from tests.fakes import EntityParseError, parse_html


def test_plain_text_has_no_entities() -> None:
    assert parse_html("hello") == ("hello", [])


def test_entities_are_decoded() -> None:
    assert parse_html("&lt;3 &amp; &quot;x&quot; &#228;&#x1F600;") == ('<3 & "x" ä😀', [])


def test_nested_tags_give_sorted_entities_in_utf16_units() -> None:
    text, entities = parse_html("😀 <b>bold <i>both</i></b> <a href='https://x.fi'>link</a>")
    assert text == "😀 bold both link"
    assert entities == [
        {"offset": 3, "length": 9, "type": "bold"},
        {"offset": 8, "length": 4, "type": "italic"},
        {"offset": 13, "length": 4, "type": "text_link", "url": "https://x.fi"},
    ]


def test_pre_with_language_and_spoilers() -> None:
    raw = '<pre><code class="language-python">x = 1</code></pre><span class="tg-spoiler">s</span>'
    assert parse_html(raw)[1] == [
        {"offset": 0, "length": 5, "type": "pre", "language": "python"},
        {"offset": 5, "length": 1, "type": "spoiler"},
    ]


def test_expandable_blockquote() -> None:
    assert parse_html("<blockquote expandable>q</blockquote>")[1] == [
        {"offset": 0, "length": 1, "type": "expandable_blockquote"}
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<marquee>x</marquee>", 'Unsupported start tag "marquee" at byte offset 0'),
        ('<span class="other">x</span>', 'Unsupported start tag "span" at byte offset 0'),
        ("ä < b", "Unclosed start tag at byte offset 3"),
        ("fish & chips", 'unescaped "&" at byte offset 5'),
        ("a -> b", 'unescaped ">" at byte offset 3'),
    ],
)
def test_invalid_html_is_refused(raw: str, message: str) -> None:
    with pytest.raises(EntityParseError) as raised:
        parse_html(raw)
    assert str(raised.value) == message

"""Telegram's HTML parse mode: turns marked-up text into visible text plus message entities.

Strict on purpose: besides unknown, unbalanced or unclosed tags (which Telegram rejects), a bare
``&``, ``<`` or ``>`` outside a tag is an error here, so that unescaped user input is caught.
"""

import re
from dataclasses import dataclass, field
from typing import Any

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
}
_ALL_TAGS = {*_SIMPLE_TAGS, "a", "span", "tg-emoji"}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)\s*>")
_ATTR_RE = re.compile(r"""([a-zA-Z_][\w-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; the message follows Telegram's wording."""


@dataclass
class _OpenTag:
    """A start tag waiting for its end tag."""

    name: str
    attrs: dict[str, str]
    offset: int
    language: str | None = field(default=None)


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(raw: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into (visible text, entities sorted like Telegram sorts them)."""
    parts: list[str] = []
    length = 0
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(raw):
        char = raw[i]
        if char == "&":
            match = _ENTITY_RE.match(raw, i)
            if match is None:
                raise EntityParseError(f'unescaped "&" at byte offset {_byte_offset(raw, i)}')
            decoded = _decode_entity(match)
            parts.append(decoded)
            length += utf16_len(decoded)
            i = match.end()
        elif char == ">":
            raise EntityParseError(f'unescaped ">" at byte offset {_byte_offset(raw, i)}')
        elif char == "<":
            match = _TAG_RE.match(raw, i)
            if match is None:
                raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(raw, i)}")
            closing, name, attr_text = match.group(1), match.group(2).lower(), match.group(3)
            if closing:
                _close(raw, i, name, stack, length, entities)
            else:
                stack.append(_open(raw, i, name, attr_text, length))
            i = match.end()
        else:
            parts.append(char)
            length += utf16_len(char)
            i += 1
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return "".join(parts), entities


def _byte_offset(raw: str, index: int) -> int:
    """UTF-8 byte offset of ``raw[index]``, as Telegram reports positions."""
    return len(raw[:index].encode())


def _decode_entity(match: re.Match[str]) -> str:
    """Decode one of the HTML entities Telegram supports."""
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED_ENTITIES[named]
    return chr(int(decimal) if decimal else int(hexadecimal, 16))


def _open(raw: str, index: int, name: str, attr_text: str, offset: int) -> _OpenTag:
    """Validate a start tag and return its open-tag record."""
    attrs = {
        m.group(1).lower(): next((g for g in m.group(2, 3, 4) if g is not None), "")
        for m in _ATTR_RE.finditer(attr_text)
    }
    unsupported = (
        name not in _ALL_TAGS
        or (name == "span" and attrs.get("class") != "tg-spoiler")
        or (name == "a" and "href" not in attrs)
        or (name == "tg-emoji" and "emoji-id" not in attrs)
    )
    if unsupported:
        raise EntityParseError(
            f'Unsupported start tag "{name}" at byte offset {_byte_offset(raw, index)}'
        )
    return _OpenTag(name, attrs, offset)


def _close(
    raw: str,
    index: int,
    name: str,
    stack: list[_OpenTag],
    offset: int,
    entities: list[dict[str, Any]],
) -> None:
    """Match an end tag with the innermost open tag and emit its entity."""
    if not stack:
        raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(raw, index)}")
    tag = stack.pop()
    if tag.name != name:
        raise EntityParseError(
            f"Unmatched end tag at byte offset {_byte_offset(raw, index)}, "
            f'expected "</{tag.name}>", found "</{name}>"'
        )
    language = tag.attrs.get("class", "").removeprefix("language-")
    if tag.name == "code" and stack and stack[-1].name == "pre" and language:
        stack[-1].language = language
        return
    if offset > tag.offset:
        entities.append(_entity(tag, offset - tag.offset))


def _entity(tag: _OpenTag, length: int) -> dict[str, Any]:
    """The MessageEntity dict for a closed tag spanning ``length`` UTF-16 units."""
    entity: dict[str, Any] = {"offset": tag.offset, "length": length}
    if tag.name == "a":
        entity.update(type="text_link", url=tag.attrs["href"])
    elif tag.name == "span":
        entity["type"] = "spoiler"
    elif tag.name == "tg-emoji":
        entity.update(type="custom_emoji", custom_emoji_id=tag.attrs["emoji-id"])
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    else:
        entity["type"] = _SIMPLE_TAGS[tag.name]
        if tag.language:
            entity["language"] = tag.language
    return entity

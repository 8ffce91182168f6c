"""parse_mode=HTML as the Bot API reads it: text plus entities, or the API's own refusal.

Follows the Bot API's documented HTML style (core.telegram.org/bots/api#html-style): the tags
b/strong, i/em, u/ins, s/strike/del, a href, code, pre (with an inner code class="language-x"),
blockquote, tg-spoiler / span class="tg-spoiler"; the entities &lt; &gt; &amp; &quot; and numeric
ones (any other & stays text). What the API refuses gets its error text: 400 "Bad Request: can't
parse entities: ..." naming the tag and its UTF-8 byte offset. Offsets and lengths of the entities
are in UTF-16 code units, like the API's.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "a": "text_link",
    "code": "code", "pre": "pre", "blockquote": "blockquote", "tg-spoiler": "spoiler", "span": "spoiler",
}  # fmt: skip
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_ATTR = re.compile(r'\s*([A-Za-z-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\'|([^\s>]+))')
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d{1,7}|#x[0-9A-Fa-f]{1,6});")


class HTMLParseError(ValueError):
    """The Bot API's description of why it cannot parse the text."""


@dataclass
class _Open:
    name: str
    kind: str
    offset: int  # UTF-16 offset of the entity's start in the text
    attrs: dict[str, str]


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fail(message: str) -> HTMLParseError:
    return HTMLParseError(f"Bad Request: can't parse entities: {message}")


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """(text, entities) of a parse_mode=HTML message; HTMLParseError with the API's text."""
    out: list[str] = []
    size = 0  # UTF-16 length of the text so far
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    pos = 0
    while pos < len(source):
        char = source[pos]
        if char == "&":
            match = _ENTITY.match(source, pos)
            piece = html.unescape(match.group()) if match else "&"
            pos = match.end() if match else pos + 1
        elif char == "<":
            byte_offset = len(source[:pos].encode())
            end = source.find(">", pos)
            if end < 0:
                raise _fail(f"Unclosed start tag at byte offset {byte_offset}")
            tag = source[pos + 1 : end]
            pos = end + 1
            if tag.startswith("/"):
                name = tag[1:].strip().lower()
                if not stack:
                    raise _fail(f"Unexpected end tag at byte offset {byte_offset}")
                top = stack.pop()
                if top.name != name:
                    raise _fail(
                        f"Unmatched end tag at byte offset {byte_offset}, "
                        f'expected "</{top.name}>", found "</{name}>"'
                    )
                _close(top, size, entities, stack)
                continue
            match = _NAME.match(tag)
            name = match.group().lower() if match else ""
            attrs = {
                m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
                for m in _ATTR.finditer(tag[len(name) :])
            }
            if name not in _TAGS or (name == "span" and attrs.get("class") != "tg-spoiler"):
                raise _fail(f'Unsupported start tag "{name}" at byte offset {byte_offset}')
            if (
                stack
                and stack[-1].kind in ("code", "pre")
                and not (stack[-1].name == "pre" and name == "code")
            ):
                raise _fail(
                    f'Unsupported start tag "{name}" at byte offset {byte_offset}'
                )  # no entities in code
            if name == "a" and not attrs.get("href"):
                raise _fail(f'Unsupported start tag "{name}" at byte offset {byte_offset}')
            stack.append(_Open(name, _TAGS[name], size, attrs))
            continue
        else:
            end = min(
                (i for i in (source.find("<", pos), source.find("&", pos)) if i >= 0), default=len(source)
            )
            piece = source[pos:end]
            pos = end
        out.append(piece)
        size += _utf16(piece)
    if stack:
        raise _fail(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close(tag: _Open, size: int, entities: list[dict[str, Any]], stack: list[_Open]) -> None:
    length = size - tag.offset
    if length <= 0:
        return  # empty entities are dropped
    if tag.kind == "code" and stack and stack[-1].name == "pre":
        language = tag.attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1].attrs["language"] = language[len("language-") :]
        return  # <pre><code>: one pre entity
    entity: dict[str, Any] = {"type": tag.kind, "offset": tag.offset, "length": length}
    if tag.kind == "text_link":
        entity["url"] = tag.attrs["href"]
    if tag.kind == "pre" and tag.attrs.get("language"):
        entity["language"] = tag.attrs["language"]
    entities.append(entity)

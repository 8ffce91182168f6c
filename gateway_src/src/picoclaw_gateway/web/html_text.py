"""HTML to readable text with the standard library's html.parser (no extra dependency, no DOM kept).

What a reader sees survives: headings, paragraphs, list items, table cells, link texts with their
targets. Scripts, styles, forms, SVG and the like are dropped. The parser is fed the page once and
only the text pieces are kept, so memory stays near the size of the text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

_SKIP = frozenset(
    {"script", "style", "noscript", "template", "svg", "math", "iframe", "object", "canvas", "form", "select"}
)
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "wbr"}
)
_BLOCK = frozenset(
    {
        "p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "blockquote",
        "pre", "ul", "ol", "dl", "dt", "dd", "table", "tr", "figure", "figcaption", "address",
        "details", "summary", "br", "hr", "body", "html",
    }
)  # fmt: skip
_HEADINGS = {"h1": "# ", "h2": "## ", "h3": "### ", "h4": "#### ", "h5": "##### ", "h6": "###### "}
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")
MAX_LINKS = 200  # link targets shown; past that only link texts
FEED_CHARS = 32 * 1024
_SCRIPT_STYLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


class _Reader(HTMLParser):
    def __init__(self, base_url: str, max_chars: int) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.max_chars = max_chars
        self.parts: list[str] = []
        self.size = 0
        self.title = ""
        self._skip_depth = 0
        self._in_title = False
        self._href: str | None = None
        self._links = 0

    def _add(self, text: str) -> None:
        if self.size < self.max_chars:
            self.parts.append(text)
            self.size += len(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            if tag not in _VOID:
                self._skip_depth += 1
            return
        if tag == "title":
            self._in_title = True
        elif tag in _HEADINGS:
            self._add("\n\n" + _HEADINGS[tag])
        elif tag == "li":
            self._add("\n- ")
        elif tag in ("td", "th"):
            self._add(" | ")
        elif tag in _BLOCK:
            self._add("\n")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self._href = href if href and not href.startswith(("#", "javascript:", "mailto:")) else None
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self._add(f"[image: {alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
            return
        if tag == "title":
            self._in_title = False
        elif tag in _HEADINGS or tag in _BLOCK:
            self._add("\n")
        elif tag == "a" and self._href is not None:
            target = urljoin(self.base_url, self._href)
            if self._links < MAX_LINKS and urlsplit(target).scheme in ("http", "https"):
                self._links += 1
                self._add(f" ({target})")
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        if self._in_title:
            self.title += data
            return
        self._add(data)


def html_to_text(html: str, base_url: str, max_chars: int) -> tuple[str, str]:
    """(title, readable text) of `html`; the text is at most about `max_chars` long."""
    # Scripts and styles go before parsing: html.parser would buffer each one whole (and copy it per
    # fed slice) only to drop it; on script-heavy pages that was most of a fetch's memory.
    html = _SCRIPT_STYLE.sub(" ", html)
    reader = _Reader(base_url, max_chars)
    # Fed in slices and stopped once the text is long enough: parsing is CPU time on the event loop's
    # thread, and the rest of a 2 MB page would be cut anyway.
    for start in range(0, len(html), FEED_CHARS):
        reader.feed(html[start : start + FEED_CHARS])
        if reader.size >= max_chars:
            break
    else:
        reader.close()
    text = "".join(reader.parts)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    return _SPACES.sub(" ", reader.title).strip(), text

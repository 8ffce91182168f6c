"""The LLM's markdown read into a small, platform-neutral form: blocks of styled runs.

markdown-it-py (CommonMark plus strikethrough and tables) does the parsing, so `2*3*4`, snake_case
names and unclosed `**` read the way a markdown viewer shows them. Raw HTML is off: `<b>` written by
the model stays text (each platform renderer escapes it), never markup the platform would obey.
What chat apps cannot show is turned into what they can: headings become bold lines, list items
get a "• " or "1. " marker, quotes a "> " prefix, tables and rules monospace text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported on the first reply, not at start (start-up time and idle memory)
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

BOLD, ITALIC, STRIKE, CODE = 1, 2, 4, 8
PREFIX = 16  # quote marks and list markers: structure, written unescaped where the platform reads it
# Links a chat app can open; anything else (javascript:, data:, relative) is shown as plain text.
LINK_SCHEMES = ("http://", "https://", "mailto:", "tg://")

_PARSER: MarkdownIt | None = None


@dataclass(frozen=True, slots=True)
class Run:
    """Text with one style: a bit set of BOLD/ITALIC/STRIKE/CODE, and a link target or None."""

    text: str
    style: int = 0
    href: str | None = None


@dataclass(frozen=True, slots=True)
class Block:
    """A paragraph (runs), or a code block (`code` set: runs hold its text as one CODE run).
    `gap` is what separates it from the block before: a blank line, or a line break inside lists."""

    runs: tuple[Run, ...]
    code: bool = False
    lang: str = ""
    gap: str = "\n\n"

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)


def _parser() -> MarkdownIt:
    global _PARSER  # built once, on the first reply: the parser's rule tables are reused
    if _PARSER is None:
        from markdown_it import MarkdownIt

        _PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
            ["strikethrough", "table"]
        )
    return _PARSER


def _safe_href(href: str) -> str | None:
    return href if href.lower().startswith(LINK_SCHEMES) else None


def _inline_runs(children: list[Token], base_style: int) -> list[Run]:
    runs: list[Run] = []
    style, href = base_style, None
    flags = {"strong": BOLD, "em": ITALIC, "s": STRIKE}
    for tok in children:
        kind = tok.type
        if kind == "text":
            if tok.content:
                runs.append(Run(tok.content, style, href))
        elif kind in ("softbreak", "hardbreak"):
            runs.append(Run("\n", style, href))  # a chat message keeps the model's line breaks
        elif kind == "code_inline":
            runs.append(Run(tok.content, style | CODE, href))
        elif kind.endswith("_open") and kind[:-5] in flags:
            style |= flags[kind[:-5]]
        elif kind.endswith("_close") and kind[:-6] in flags:
            style &= ~flags[kind[:-6]] | base_style
        elif kind == "link_open":
            href = _safe_href(str(tok.attrs.get("href") or ""))  # unsafe: its text stays, plain
        elif kind == "link_close":
            href = None
        elif kind == "image":
            alt = tok.content or "image"
            src = _safe_href(str(tok.attrs.get("src") or ""))
            runs.append(Run(alt, style, src))
        elif tok.content:  # html_inline cannot occur (html off); anything new is kept as text
            runs.append(Run(tok.content, style, href))
    return [run for run in runs if run.text]


class _Reader:
    """Walks markdown-it's token stream, keeping the list and quote nesting."""

    def __init__(self, source_lines: list[str]) -> None:
        self.lines = source_lines
        self.blocks: list[Block] = []
        self.lists: list[list[int]] = []  # per open list: [next number] or [-1] for bullets
        self.quote_depth = 0
        self.marker_pending = False  # the next paragraph is the first of a list item
        self.heading = False
        self.in_list_item_before = False

    def _prefix(self) -> list[Run]:
        prefix = "> " * self.quote_depth
        if self.lists:
            indent = "  " * (len(self.lists) - 1)
            if self.marker_pending:
                number = self.lists[-1][0]
                marker = "• " if number < 0 else f"{number}. "
                if number >= 0:
                    self.lists[-1][0] += 1
                prefix += indent + marker
                self.marker_pending = False
            else:
                prefix += indent + "  "
        return [Run(prefix, PREFIX)] if prefix else []

    def _continued(self, runs: list[Run]) -> list[Run]:
        """Line breaks inside a quote or a list item: the next line is quoted (indented) too."""
        cont = "> " * self.quote_depth + "  " * len(self.lists)
        if not cont:
            return runs
        out: list[Run] = []
        for run in runs:
            for index, line in enumerate(run.text.split("\n")):
                if index:
                    out.extend((Run("\n"), Run(cont, PREFIX)))
                if line:
                    out.append(Run(line, run.style, run.href))
        return out

    def _add(self, block: Block) -> None:
        in_list = bool(self.lists)
        gap = "\n" if in_list and self.in_list_item_before else "\n\n"
        self.in_list_item_before = in_list
        self.blocks.append(Block(block.runs, block.code, block.lang, gap if self.blocks else ""))

    def _source(self, tok: Token) -> str:
        start, end = tok.map or (0, 0)
        return "\n".join(self.lines[start:end]).strip("\n")

    def read(self, tokens: list[Token]) -> list[Block]:
        index = 0
        while index < len(tokens):
            tok = tokens[index]
            kind = tok.type
            if kind == "bullet_list_open":
                self.lists.append([-1])
            elif kind == "ordered_list_open":
                start = tok.attrs.get("start")
                self.lists.append(
                    [int(start) if isinstance(start, int | str) and str(start).isdigit() else 1]
                )
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.lists.pop()
                self.in_list_item_before = bool(self.lists)  # a new list after this one: a blank line
            elif kind == "list_item_open":
                self.marker_pending = True
            elif kind == "blockquote_open":
                self.quote_depth += 1
            elif kind == "blockquote_close":
                self.quote_depth -= 1
            elif kind == "heading_open":
                self.heading = True
            elif kind == "heading_close":
                self.heading = False
            elif kind == "inline":
                runs = _inline_runs(tok.children or [], BOLD if self.heading else 0)
                if runs:
                    self._add(Block((*self._prefix(), *self._continued(runs))))
            elif kind in ("fence", "code_block"):
                text = tok.content.rstrip("\n")
                if text.strip():
                    lang = tok.info.split(maxsplit=1)[0] if tok.info.strip() else ""
                    self._add(Block((Run(text, CODE),), code=True, lang=lang))
            elif kind == "table_open":
                # Chat apps have no tables: the model's own aligned source, in monospace.
                self._add(Block((Run(self._source(tok), CODE),), code=True))
                while index < len(tokens) and tokens[index].type != "table_close":
                    index += 1
            elif kind == "hr":
                self._add(Block((*self._prefix(), Run("———"))))
            index += 1
        return self.blocks


def parse(text: str) -> list[Block]:
    """The blocks of `text`, in order; [] for text without anything visible."""
    if not _MARKUP.search(text):
        return _plain_blocks(text)
    return _Reader(text.split("\n")).read(_parser().parse(text))


# Anything markdown could read as markup: a marker character anywhere, or at a line start a list
# number, an indented code block, or a setext underline. Text with none of it is read without the
# parser (a third of the CPU a 6 KB answer costs): the same blocks, as the tests check.
_MARKUP = re.compile(r"[*_`~\[\]<>#|\\&!=+-]|^\s*\d+[.)]|^(?: {4}| {0,3}\t)", re.MULTILINE)


def _plain_blocks(text: str) -> list[Block]:
    """Paragraphs split at blank lines, their lines stripped the way CommonMark strips them."""
    blocks: list[Block] = []
    for paragraph in re.split(r"\n[ \t]*\n", text):
        lines = [line.lstrip(" \t").rstrip(" ") for line in paragraph.split("\n")]
        body = "\n".join(line for line in lines if line).rstrip(" \t")
        if body:
            blocks.append(Block((Run(body),), gap="\n\n" if blocks else ""))
    return blocks

"""A reply as the platform messages it becomes, formatted, each within the platform's limit.

Splitting happens on the parsed blocks, before any markup is written: a chunk is a run of whole
blocks, each rendered with its own opening and closing markers, so a bold span or a code block cut
between two messages is closed in the first and opened again in the second, never left dangling.
A block too long for one message is cut at a line break when there is one, else between words,
else between characters; a code block between its lines. Every size is counted with the
renderer's `cost` (formatted and plain alike), and each chunk is measured again once rendered: a
chunk over the limit (a bug) is sent as plain text cut by the old line splitter instead.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from picoclaw_gateway.channels.text_split import split_text
from picoclaw_gateway.formatting.markdown import Block, Run, parse
from picoclaw_gateway.formatting.render import Renderer

log = logging.getLogger(__name__)

_WORDS = re.compile(r"\S+\s*|\s+")
_LINES = re.compile(r"[^\n]*\n|[^\n]+")


@dataclass(frozen=True, slots=True)
class Part:
    """One platform message: `text` as sent (`markup`: in the platform's format), and `plain`,
    the same words without markup, sent instead when the platform refuses the markup."""

    text: str
    plain: str
    markup: bool


def _slices(run: Run, renderer: Renderer, limit: int) -> list[Run]:
    """A run that alone exceeds the limit, cut between characters."""
    if renderer.cost(Run("", run.style, run.href)) >= limit // 2:
        run = Run(run.text, run.style)  # a link target longer than half a message: the text only
    pieces: list[Run] = []
    start = 0
    while start < len(run.text):
        low, high = start + 1, len(run.text)  # the longest piece from `start` that fits: binary search
        while low < high:
            middle = (low + high + 1) // 2
            if renderer.cost(Run(run.text[start:middle], run.style, run.href)) <= limit:
                low = middle
            else:
                high = middle - 1
        pieces.append(Run(run.text[start:low], run.style, run.href))
        start = low
    return pieces


def _atoms(block: Block, renderer: Renderer, limit: int) -> list[tuple[Run, int]]:
    """The block's runs cut into lines, a line too long into words, a word too long into slices;
    each with its cost (whole lines first: a 6 KB answer is ~80 of them, ~1,000 words)."""
    atoms: list[tuple[Run, int]] = []
    for run in block.runs:
        for line in _LINES.finditer(run.text):
            atom = Run(line.group(), run.style, run.href)
            cost = renderer.cost(atom)
            if cost <= limit:
                atoms.append((atom, cost))
                continue
            for word in _WORDS.finditer(atom.text):
                piece = Run(word.group(), run.style, run.href)
                cost = renderer.cost(piece)
                pieces = [piece] if cost <= limit else _slices(piece, renderer, limit)
                atoms.extend((p, cost if p is piece else renderer.cost(p)) for p in pieces)
    return atoms


def _fit_text(block: Block, renderer: Renderer, limit: int) -> list[Block]:
    pieces: list[list[Run]] = []
    current: list[tuple[Run, int]] = []
    size = 0
    line_end = 0  # atoms of `current` up to the last one that ends a line
    for atom, cost in _atoms(block, renderer, limit):
        if current and size + cost > limit:
            cut = line_end or len(current)
            pieces.append([run for run, _cost in current[:cut]])
            current = current[cut:]
            size = sum(cost for _run, cost in current)
            line_end = 0
            if current and size + cost > limit:
                pieces.append([run for run, _cost in current])
                current, size = [], 0
        current.append((atom, cost))
        size += cost
        if atom.text.endswith("\n"):
            line_end = len(current)
    if current:
        pieces.append([run for run, _cost in current])
    return [
        Block(_trimmed(runs), gap=block.gap if not index else "")
        for index, runs in enumerate(pieces)
        if _trimmed(runs)
    ]


def _trimmed(runs: list[Run]) -> tuple[Run, ...]:
    """A piece without the line break or spaces it was cut after (platforms trim them anyway)."""
    runs = list(runs)
    while runs and not runs[-1].text.rstrip():
        runs.pop()
    if runs:
        runs[-1] = Run(runs[-1].text.rstrip(), runs[-1].style, runs[-1].href)
    return tuple(runs)


def _fit_code(block: Block, renderer: Renderer, limit: int) -> list[Block]:
    room = limit - renderer.code_wrapper_cost(block.lang)
    lines: list[str] = []
    for line in block.text.split("\n"):
        if renderer.code_line_cost(line) <= room:
            lines.append(line)
        else:  # one line longer than a message: cut between characters
            lines.extend(run.text for run in _slices(Run(line), _CodeLines(renderer), room))
    pieces: list[list[str]] = [[]]
    size = 0
    for line in lines:
        cost = renderer.code_line_cost(line) + (1 if pieces[-1] else 0)  # its line break
        if pieces[-1] and size + cost > room:
            pieces.append([])
            size, cost = 0, cost - 1
        pieces[-1].append(line)
        size += cost
    return [
        Block(
            (Run("\n".join(piece), block.runs[0].style),),
            code=True,
            lang=block.lang,
            gap=block.gap if not i else "",
        )
        for i, piece in enumerate(pieces)
    ]


class _CodeLines(Renderer):
    """Prices a piece of a code line as the renderer prices code lines (for _slices)."""

    def __init__(self, renderer: Renderer) -> None:
        self._renderer = renderer

    def cost(self, run: Run) -> int:
        return self._renderer.code_line_cost(run.text)


def _fit(block: Block, renderer: Renderer, limit: int) -> list[Block]:
    if renderer.block_cost(block) <= limit:
        return [block]
    return _fit_code(block, renderer, limit) if block.code else _fit_text(block, renderer, limit)


def _fallback(text: str, renderer: Renderer, limit: int) -> list[Part]:
    """Plain parts cut by the line splitter, measured as the platform measures plain text."""
    chunks = split_text(text, limit, lambda piece: renderer.measure(renderer.escape(piece)))
    return [Part(renderer.escape(chunk), renderer.escape(chunk), False) for chunk in chunks]


def format_parts(text: str, renderer: Renderer, limit: int) -> list[Part]:
    """The messages `text` (the model's markdown) becomes; [] when nothing in it is visible."""
    chunks: list[list[Block]] = []
    size = entities = 0
    most_entities = renderer.max_entities or 0
    for block in parse(text):
        for piece in _fit(block, renderer, limit):
            cost = renderer.block_cost(piece)
            gap = renderer.measure(piece.gap)
            spans = renderer.entities(piece) if most_entities else 0
            if chunks and size + gap + cost <= limit and entities + spans <= most_entities:
                chunks[-1].append(piece)
                size += gap + cost
                entities += spans
            else:  # a new message: also when this one has as many formatted spans as it can show
                chunks.append([piece])
                size, entities = cost, spans
    parts: list[Part] = []
    for chunk in chunks:
        formatted, plain = renderer.render(chunk), renderer.plain(chunk)
        if not plain.strip():
            continue
        if renderer.visible_size(formatted, chunk) > limit or renderer.measure(plain) > limit:
            log.error("a formatted chunk came out over the %d limit; sending that part as plain text", limit)
            parts.extend(_fallback("".join(b.gap + b.text for b in chunk), renderer, limit))
            continue
        parts.append(Part(formatted, plain, True))
    return parts

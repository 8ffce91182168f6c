"""Blocks of styled runs written in each platform's own markup, and as plain text.

Each renderer also prices a run: `cost(run)` is at least what the run adds to a message against the
platform's limit, formatted AND as plain text (the fallback when the platform refuses the markup),
so a chunk whose runs fit is sure to fit either way (formatting/split.py relies on it).
Telegram counts the limit on the text after its HTML is parsed, Slack and Discord on what is sent.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from itertools import groupby

from picoclaw_gateway.channels.text_split import utf16_len
from picoclaw_gateway.formatting.markdown import BOLD, CODE, ITALIC, PREFIX, STRIKE, Block, Run

_LANG = re.compile(r"^[A-Za-z0-9_+#.-]{1,32}$")
_EDGE_SPACE = re.compile(r"^(\s*)(.*?)(\s*)$", re.DOTALL)
_DISCORD_SPECIAL = re.compile(r"([\\*_~`|\[\]])")


def plain_run(run: Run) -> str:
    """A run as plain text: a link keeps its target visible."""
    if run.href and run.href not in run.text:
        return f"{run.text} ({run.href})"
    return run.text


def merged(runs: Iterable[Run]) -> list[Run]:
    """Adjacent runs of one style as one run (fewer tags; never longer than the runs apart)."""
    return [
        Run("".join(run.text for run in group), style, href)
        for (style, href), group in groupby(runs, key=lambda run: (run.style, run.href))
    ]


class Renderer:
    """Plain text; subclasses write a platform's markup."""

    markup = False
    max_entities: int | None = None  # formatted spans one message may carry (None: no limit)
    # Characters a marker starts or ends with: two styled runs that touch ("**a**" + "*b*") would
    # read as one run of asterisks, so a zero-width space goes between them (priced in `cost`).
    marker_chars = ""

    def measure(self, text: str) -> int:
        return len(text)

    def escape(self, text: str) -> str:
        return text

    def run(self, run: Run) -> str:
        return plain_run(run)

    def code_body(self, text: str) -> str:
        """The text of a code block as it goes between the block's markers (escaped per character)."""
        return text

    def code_block(self, text: str, lang: str) -> str:
        return self.code_body(text)

    def formatted_cost(self, run: Run) -> int:
        return self.measure(self.run(run))

    def cost(self, run: Run) -> int:
        separator = 1 if self.marker_chars and (run.style or run.href) else 0
        return max(self.formatted_cost(run) + separator, self.measure(self.escape(plain_run(run))))

    def code_line_cost(self, line: str) -> int:
        return max(self.measure(self.code_body(line)), self.measure(self.escape(line)))

    def code_wrapper_cost(self, lang: str) -> int:
        return self.measure(self.code_block("", lang))

    def code_cost(self, text: str, lang: str) -> int:
        """Markers once, each line, and the line breaks: additive, so split.py can cut by lines."""
        lines = text.split("\n")
        return self.code_wrapper_cost(lang) + sum(map(self.code_line_cost, lines)) + len(lines) - 1

    def visible_size(self, formatted: str, blocks: list[Block]) -> int:
        """What the platform counts against its limit for this rendered chunk."""
        return self.measure(formatted)

    def entities(self, block: Block) -> int:
        """Formatted spans in `block` at most (each style bit and link of each run, a code block one)."""
        if block.code:
            return 1
        return sum(bin(run.style & ~PREFIX).count("1") + (1 if run.href else 0) for run in block.runs)

    def block_cost(self, block: Block) -> int:
        if block.code:
            return self.code_cost(block.text, block.lang)
        return sum(self.cost(run) for run in block.runs)

    def render(self, blocks: list[Block]) -> str:
        out: list[str] = []
        for index, block in enumerate(blocks):
            if index:
                out.append(block.gap)
            if block.code:
                out.append(self.code_block(block.text, block.lang))
            else:
                out.extend(self._joined(self.run(run) for run in merged(block.runs)))
        return "".join(out)

    def _joined(self, pieces: Iterable[str]) -> list[str]:
        out: list[str] = []
        for piece in pieces:
            if (
                out
                and piece
                and out[-1]
                and out[-1][-1] in self.marker_chars
                and piece[0] in self.marker_chars
            ):
                out.append("\u200b")
            out.append(piece)
        return out

    def plain(self, blocks: list[Block]) -> str:
        """The same blocks without markup, escaped as the platform needs plain text sent."""
        parts = [
            (block.gap if index else "") + "".join(map(plain_run, block.runs))
            for index, block in enumerate(blocks)
        ]
        return self.escape("".join(parts))


def _wrap_lines(text: str, before: str, after: str, escape: Callable[[str], str]) -> str:
    """Markers around each line, with the edge spaces outside: Slack and Discord ignore `*a *`
    and do not carry a style across a line break."""
    out = []
    for line in text.split("\n"):
        lead, core, trail = _EDGE_SPACE.match(line).groups()  # type: ignore[union-attr]  # always matches
        out.append(f"{lead}{before}{escape(core)}{after}{trail}" if core else escape(line))
    return "\n".join(out)


class TelegramHTML(Renderer):
    """parse_mode=HTML: b, i, s, code, pre, a. Code cannot hold other entities, so its run drops them."""

    markup = True
    max_entities = 100  # Telegram shows the entities of a message past its 100th as plain text

    def measure(self, text: str) -> int:
        return utf16_len(text)

    def run(self, run: Run) -> str:
        text = html.escape(run.text, quote=False)
        if run.style & CODE:
            text = f"<code>{text}</code>"
        else:
            for flag, tag in ((STRIKE, "s"), (ITALIC, "i"), (BOLD, "b")):
                if run.style & flag:
                    text = f"<{tag}>{text}</{tag}>"
        if run.href:
            text = f'<a href="{html.escape(run.href, quote=True)}">{text}</a>'
        return text

    def code_body(self, text: str) -> str:
        return html.escape(text, quote=False)

    def code_block(self, text: str, lang: str) -> str:
        body = self.code_body(text)
        if _LANG.match(lang):
            return f'<pre><code class="language-{lang}">{body}</code></pre>'
        return f"<pre>{body}</pre>"

    def formatted_cost(self, run: Run) -> int:
        return utf16_len(run.text)  # the limit counts the text after entity parsing

    def code_line_cost(self, line: str) -> int:
        return utf16_len(line)

    def code_wrapper_cost(self, lang: str) -> int:
        return 0

    def visible_size(self, formatted: str, blocks: list[Block]) -> int:
        return utf16_len("".join((block.gap if i else "") + block.text for i, block in enumerate(blocks)))


def slack_escape(text: str) -> str:
    """Slack reads &, < and > as markup (<!channel> pings everyone): send them escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackMrkdwn(Renderer):
    """mrkdwn: *bold*, _italic_, ~strike~, `code`, <url|text>, ``` blocks."""

    markup = True
    marker_chars = "*_~`"

    def escape(self, text: str) -> str:
        return slack_escape(text)

    def run(self, run: Run) -> str:
        if run.style & PREFIX:
            return run.text  # "> " must reach Slack as ">" to quote
        if run.href:
            label = slack_escape(run.text).replace("|", "¦")
            text = f"<{run.href.replace('>', '%3E').replace('|', '%7C')}|{label}>"
            escape: Callable[[str], str] = str
        else:
            text, escape = run.text, slack_escape
        if run.style & CODE and not run.href:
            return _wrap_lines(text.replace("`", "ˋ"), "`", "`", escape)
        before = "".join(
            mark for flag, mark in ((BOLD, "*"), (ITALIC, "_"), (STRIKE, "~")) if run.style & flag
        )
        return _wrap_lines(text, before, before[::-1], escape) if before else escape(text)

    def code_body(self, text: str) -> str:
        return slack_escape(text.replace("```", "`\u200b``"))

    def code_block(self, text: str, lang: str) -> str:
        return "```\n" + self.code_body(text) + "\n```"


class DiscordMarkdown(Renderer):
    """Discord's markdown: **bold**, *italic*, ~~strike~~, `code`, [text](url), ```lang blocks;
    text that would read as markup is backslash-escaped."""

    markup = True
    marker_chars = "*_~`"

    def escape(self, text: str) -> str:
        return _DISCORD_SPECIAL.sub(r"\\\1", text)

    def run(self, run: Run) -> str:
        if run.style & CODE:
            fence = "``" if "`" in run.text else "`"
            text = _wrap_lines(
                run.text, fence + (" " if fence == "``" else ""), (" " if fence == "``" else "") + fence, str
            )
        else:
            marks = "".join(
                mark for flag, mark in ((BOLD, "**"), (ITALIC, "*"), (STRIKE, "~~")) if run.style & flag
            )
            text = _wrap_lines(run.text, marks, marks[::-1], self.escape) if marks else self.escape(run.text)
        if run.href:
            return f"[{text}]({run.href.replace(')', '%29').replace(' ', '%20')})"
        return text

    def code_body(self, text: str) -> str:
        return text.replace("```", "`\u200b``")

    def code_block(self, text: str, lang: str) -> str:
        return f"```{lang if _LANG.match(lang) else ''}\n" + self.code_body(text) + "\n```"

"""Added latency of the delivery journal per message, and the memory of its unfinished entries.

Prints one JSON line. Per message, timed separately:
- `ack_p50_ms`/`ack_p99_ms`: record() alone, i.e. what the channel waits before it may ack the platform;
- `minimal_p50_ms`/`minimal_p99_ms`: record() + mark_sent() (a reply not staged, e.g. /help);
- `journal_p50_ms`/`journal_p99_ms`: record() + reply_ready() + mark_sent(), the planned path of an
  LLM answer (three appends, each write + fdatasync, plus any compaction they trigger);
`compactions` and `file_bytes_max` show the file staying bounded; `unfinished_mb` is the Python heap
(tracemalloc) holding `--unfinished` recorded, unanswered messages, the journal's only memory.

Run from gateway_src: `make bench-journal` or `python -m bench.journal_bench [--messages 1000]`.
The folder matters: fdatasync on a tmpfs costs nothing, so point `--dir` at the state volume's disk.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

from picoclaw_gateway.delivery import Journal


@dataclass(frozen=True)
class Msg:
    channel: str
    chat_id: str
    user_id: str
    text: str


def _pct(samples: list[float], pct: int) -> float:
    return round(statistics.quantiles(samples, n=100, method="inclusive")[pct - 1] * 1000, 3)


def run(folder: Path, messages: int, text_chars: int, reply_chars: int, unfinished: int) -> dict[str, object]:
    text, reply = "q" * text_chars, "r" * reply_chars
    ack: list[float] = []
    minimal: list[float] = []
    full: list[float] = []
    file_max = 0
    with Journal(folder / "journal") as journal:
        for n in range(messages):
            msg = Msg("telegram", str(n % 200), "7", text)
            start = time.perf_counter()
            entry_id = journal.record(msg)
            ack.append(time.perf_counter() - start)
            journal.mark_sent(entry_id)
            minimal.append(time.perf_counter() - start)
            start = time.perf_counter()
            entry_id = journal.record(msg)
            journal.reply_ready(entry_id, reply)
            journal.mark_sent(entry_id)
            full.append(time.perf_counter() - start)
            file_max = max(file_max, journal.file_bytes)
        compactions = journal.compactions
    tracemalloc.start()
    with Journal(folder / "held", max_unfinished=unfinished) as held:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(unfinished):
            held.record(Msg("telegram", str(n % 200), "7", text))
        held_mb = (tracemalloc.get_traced_memory()[0] - before) / 2**20
    tracemalloc.stop()
    return {
        "messages": messages,
        "text_chars": text_chars,
        "reply_chars": reply_chars,
        "ack_p50_ms": _pct(ack, 50),
        "ack_p99_ms": _pct(ack, 99),
        "minimal_p50_ms": _pct(minimal, 50),
        "minimal_p99_ms": _pct(minimal, 99),
        "journal_p50_ms": _pct(full, 50),
        "journal_p99_ms": _pct(full, 99),
        "compactions": compactions,
        "file_bytes_max": file_max,
        "unfinished": unfinished,
        "unfinished_mb": round(held_mb, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--text-chars", type=int, default=200)
    parser.add_argument("--reply-chars", type=int, default=6000, help="the issue's realistic 6 KB reply")
    parser.add_argument("--unfinished", type=int, default=2000, help="held entries for unfinished_mb")
    parser.add_argument("--dir", type=Path, default=None, help="parent of the temporary journal folders")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="journal-bench-") as tmp:
        result = run(Path(tmp), args.messages, args.text_chars, args.reply_chars, args.unfinished)
    result["dir"] = str(args.dir or tempfile.gettempdir())
    print(json.dumps(result))


if __name__ == "__main__":
    main()

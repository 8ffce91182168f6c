"""Delivery journal under crashes and damage: every byte offset, every flipped byte, hypothesis, kill -9."""

from __future__ import annotations

import bisect
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import picoclaw_gateway
from picoclaw_gateway.delivery import Journal, JournalError
from tests.journal_model import Msg, allowed, apply, replay, snapshot

NO_AUTO_COMPACTION = 1 << 30  # one appended frame per op, so each op has a byte boundary
# The logic tests (not the kill -9 one) run on tmpfs when there is one: fsync there is free, and
# what they check does not depend on the disk.
FAST_TMP = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


DELIVERY = {"hi": "u1", "héllo ✓ 😀": "u2", "x": "u1", "/reset": "Ev1", "last": "u3"}


def build(folder: Path) -> tuple[bytes, list[int], list[tuple[str, int, Any]]]:
    """A real journal file, the end offset of each frame (header first), and the op log."""
    log: list[tuple[str, int, Any]] = []
    with Journal(folder, compact_min_bytes=NO_AUTO_COMPACTION) as journal:
        ends = [journal.file_bytes]

        def op(kind: str, target: Any, arg: Any = None) -> int:
            entry_id = apply(journal, log, kind, target, arg)
            ends.append(journal.file_bytes)
            return entry_id

        a = op("record", Msg("tg", "1", "7", "hi"), "u1")
        b = op("record", Msg("tg", "1", "7", "héllo ✓ 😀"), "u2")
        c = op("record", Msg("dc", "2", "8", "x"), "u1")
        op("reply", a, "yes")
        op("part", a, 1)
        op("failed", c, "LLM down")
        op("sent", a)
        op("reply", b, "two\nparts")
        op("part", b, 1)
        op("notice_sent", c)
        d = op("record", Msg("sl", "3", "9", "/reset"), "Ev1")
        op("failed", d, "reset")
        op("part", b, 2)
        op("record", Msg("tg", "1", "7", "last"), "u3")
    data = (folder / "journal.bin").read_bytes()
    assert ends[-1] == len(data)
    return data, ends, log


def reopen_is_clean(folder: Path, expected: dict[int, Any]) -> None:
    """After recovery the file is clean and takes new records with fresh ids."""
    with Journal(folder) as journal:
        assert (journal.damaged_bytes, journal.torn_tail_bytes) == (0, 0)
        assert snapshot(journal) == expected
        new_id = journal.record(Msg("tg", "1", "7", "after recovery"))
        assert new_id not in expected
    with Journal(folder) as journal:
        assert snapshot(journal)[new_id][3] == "after recovery"
        assert (journal.damaged_bytes, journal.torn_tail_bytes) == (0, 0)


def test_truncated_at_every_byte_offset() -> None:
    with tempfile.TemporaryDirectory(dir=FAST_TMP) as tmp:
        truncated_at_every_byte_offset(Path(tmp))


def truncated_at_every_byte_offset(tmp_path: Path) -> None:
    data, ends, log = build(tmp_path / "source")
    folder = tmp_path / "cut"
    folder.mkdir()
    for cut in range(len(data) + 1):
        (folder / "journal.bin").write_bytes(data[:cut])
        complete = bisect.bisect_right(ends, cut)  # frames wholly inside the prefix (header = 1)
        expected = replay(log[: max(complete - 1, 0)])
        deliveries = {(arg[0], DELIVERY[arg[3]]) for kind, _id, arg in log if kind == "record"}
        kept = {
            (arg[0], DELIVERY[arg[3]]) for kind, _id, arg in log[: max(complete - 1, 0)] if kind == "record"
        }
        with Journal(folder) as journal:
            assert snapshot(journal) == expected, f"cut at {cut}"
            assert {d for d in deliveries if journal.seen(*d)} == kept  # redeliveries still recognized
            assert journal.damaged_bytes == 0
            assert journal.torn_tail_bytes == cut - (ends[complete - 1] if complete else 0)
        if cut in (0, ends[0], len(data) // 2, len(data) - 1):  # the slow part, at a few offsets
            reopen_is_clean(folder, expected)


def test_a_flipped_byte_costs_only_the_frame_it_hits() -> None:
    with tempfile.TemporaryDirectory(dir=FAST_TMP) as tmp:
        a_flipped_byte_costs_only_the_frame_it_hits(Path(tmp))


def a_flipped_byte_costs_only_the_frame_it_hits(tmp_path: Path) -> None:
    data, ends, log = build(tmp_path / "source")
    folder = tmp_path / "flip"
    folder.mkdir()
    for offset in range(len(data)):
        damaged = bytearray(data)
        damaged[offset] ^= 1 << (offset % 8) if offset % 3 else 0xFF
        (folder / "journal.bin").write_bytes(bytes(damaged))
        frame = bisect.bisect_right(ends, offset)  # index of the frame the byte belongs to
        expected = replay(log[: frame - 1] + log[frame:]) if frame else replay(log)
        frame_size = ends[frame] - (ends[frame - 1] if frame else 0)
        with Journal(folder) as journal:
            assert snapshot(journal) == expected, f"flip at {offset}"
            # the damaged frame is skipped (or is the tail), its neighbours are intact
            assert journal.damaged_bytes + journal.torn_tail_bytes == frame_size
        if offset % 97 == 0:
            reopen_is_clean(folder, expected)


def test_garbage_after_the_last_frame_is_dropped_and_appends_continue(tmp_path: Path) -> None:
    _data, _ends, log = build(tmp_path)
    with (tmp_path / "journal.bin").open("ab") as handle:
        handle.write(b"\xffJ\x05\x00\x00\x00garbage that is not a frame")
    with Journal(tmp_path) as journal:
        assert snapshot(journal) == replay(log)
        assert journal.torn_tail_bytes == 33
    reopen_is_clean(tmp_path, replay(log))


OP = st.one_of(
    st.tuples(
        st.just("record"), st.sampled_from(["tg", "dc"]), st.sampled_from(["1", "2"]), st.text(max_size=40)
    ),
    st.tuples(st.just("reply"), st.integers(0, 20), st.text(max_size=40)),
    st.tuples(st.just("part"), st.integers(0, 20), st.integers(1, 4)),
    st.tuples(st.just("sent"), st.integers(0, 20)),
    st.tuples(st.just("failed"), st.integers(0, 20), st.text(max_size=20)),
    st.tuples(st.just("notice_sent"), st.integers(0, 20)),
    st.just(("reopen",)),
)


def _run(journal: Journal, log: list[tuple[str, int, Any]], ids: list[int], step: tuple[Any, ...]) -> bool:
    """One generated op on the journal; True if the journal accepted it."""
    kind = step[0]
    if kind == "record":
        apply(journal, log, "record", Msg(step[1], step[2], "7", step[3]))
        ids.append(log[-1][1])
        return True
    if not ids:
        return False
    arg = step[2] if len(step) > 2 else None
    try:
        apply(journal, log, kind, ids[step[1] % len(ids)], arg)
    except JournalError:
        return False
    return True


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(OP, max_size=25))
def test_any_op_sequence_matches_the_model(steps: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory(dir=FAST_TMP) as tmp:
        folder = Path(tmp)
        journal = Journal(folder, compact_min_bytes=512)
        log: list[tuple[str, int, Any]] = []
        ids: list[int] = []
        try:
            for step in steps:
                if step[0] == "reopen":
                    journal.close()
                    journal = Journal(folder, compact_min_bytes=512)
                    continue
                before = replay(log)
                target = ids[step[1] % len(ids)] if ids and step[0] != "record" else 0
                arg = step[2] if len(step) > 2 and step[0] != "record" else None
                expect_ok = step[0] == "record" or allowed(before, step[0], target, arg)
                assert _run(journal, log, ids, step) == expect_ok, step
                expected = replay(log)
                assert snapshot(journal) == expected
        finally:
            journal.close()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(OP, max_size=15),
    damage=st.lists(
        st.one_of(
            st.tuples(st.just("cut"), st.floats(0, 1)),
            st.tuples(st.just("flip"), st.floats(0, 1), st.integers(1, 255)),
            st.tuples(st.just("garbage"), st.binary(max_size=40)),
        ),
        max_size=3,
    ),
)
def test_any_damage_never_breaks_open(steps: list[tuple[Any, ...]], damage: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory(dir=FAST_TMP) as tmp:
        folder = Path(tmp)
        log: list[tuple[str, int, Any]] = []
        ids: list[int] = []
        with Journal(folder, compact_min_bytes=NO_AUTO_COMPACTION) as journal:
            for step in steps:
                if step[0] != "reopen":
                    _run(journal, log, ids, step)
        path = folder / "journal.bin"
        data = bytearray(path.read_bytes())
        for kind, *args in damage:
            if kind == "cut":
                del data[int(args[0] * len(data)) :]
            elif kind == "flip" and data:
                data[min(int(args[0] * len(data)), len(data) - 1)] ^= args[1]
            elif kind == "garbage":
                data += args[0]
        path.write_bytes(bytes(data))
        recorded = {entry_id: arg for kind, entry_id, arg in log if kind == "record"}
        with Journal(folder) as journal:
            state = snapshot(journal)
        for entry_id, fields in state.items():  # whatever survives is what was written
            channel, chat, user, text = recorded[entry_id]
            assert fields[:4] == (channel, chat, user, text)
        if all(kind == "garbage" for kind, *_ in damage):
            assert len(state) == len(replay(log))
        reopen_is_clean(folder, state)


CHILD = """
import random, sys
from pathlib import Path
from picoclaw_gateway.delivery import Journal
from tests.journal_model import Msg

def say(line):  # one write per line: a kill never leaves half a line
    sys.stdout.write(line + chr(10))
    sys.stdout.flush()

rng = random.Random(int(sys.argv[2]))
journal = Journal(Path(sys.argv[1]), compact_min_bytes=16384)
pending = [entry.id for entry in journal.unfinished()]
say("open")
while True:
    entry_id = journal.record(Msg("tg", str(rng.randrange(5)), "7", "x" * rng.randrange(3000)))
    say(f"R {entry_id}")
    pending.append(entry_id)
    while len(pending) > 30 or (pending and rng.random() < 0.5):
        done = pending.pop(0)
        say(f"f {done}")  # finishing starts: from here on either state is right
        state = journal.get(done).state
        if state != "notice" and rng.random() < 0.6:
            if state == "received":
                journal.reply_ready(done, "y" * rng.randrange(3000))
                journal.mark_part_sent(done, 1)
            journal.mark_sent(done)
        else:
            if state != "notice":
                journal.mark_failed(done, "n")
            journal.mark_notice_sent(done)
        say(f"F {done}")
"""


def test_kill_9_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    rng = random.Random(12)
    src = Path(picoclaw_gateway.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(Path(__file__).resolve().parents[1])])}
    recorded: set[int] = set()
    finishing: set[int] = set()
    finished: set[int] = set()
    seen: set[int] = set()  # alive after some kill (may never be printed: see below)
    highest = 0
    for round_ in range(20):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(tmp_path), str(round_)], stdout=subprocess.PIPE, env=env
        )
        assert child.stdout is not None
        assert child.stdout.readline() == b"open\n"
        time.sleep(rng.uniform(0.02, 0.4))
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
        # read() keeps what readline() already buffered (communicate(timeout) would skip it)
        out = child.stdout.read()
        child.stdout.close()
        for line in out.split(b"\n")[:-1]:  # whole lines only
            kind, entry_id = line.split()
            {b"R": recorded, b"f": finishing, b"F": finished}[kind].add(int(entry_id))
        with Journal(tmp_path) as journal:
            assert journal.damaged_bytes == 0  # a crash leaves at most a torn tail
            alive = {e.id for e in journal.unfinished()}
            for entry in journal.unfinished():
                assert set(entry.text) <= {"x"}, "a record came back altered"
        assert recorded - finishing <= alive, "a message whose record() returned was lost"
        assert not alive & finished, "a finished message came back (a second outcome)"
        # besides those, at most the one record() whose id the child had no time to print
        unprinted = alive - recorded - seen
        assert len(unprinted) <= 1
        assert min(unprinted, default=highest + 1) > highest, "an id was used twice"
        seen |= alive
        highest = max(recorded | seen, default=0)
    assert len(finished) > 100  # the kills landed in real traffic

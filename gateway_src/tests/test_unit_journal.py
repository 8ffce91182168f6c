"""Delivery journal: one outcome per message, resume state, caps, compaction, locking."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from picoclaw_gateway.delivery import Journal, JournalError, JournalFull
from tests.journal_model import Msg


def test_entry_lifecycle_survives_reopen(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        a = journal.record(Msg("telegram", "100", "7", "hello"))
        b = journal.record(Msg("telegram", "100", "7", "second"))
        c = journal.record(Msg("slack", "C1", "U1", "third"))
        d = journal.record(Msg("discord", "5", "6", "fourth"))
        assert journal.reply_ready(a, "part one\npart two") == "part one\npart two"
        journal.mark_part_sent(a, 1)
        assert journal.mark_failed(c, "could not reach the language model") == (
            "could not reach the language model"
        )
        journal.reply_ready(d, "done")
        journal.mark_sent(d)
    with Journal(tmp_path) as journal:
        entries = journal.unfinished()
        assert [e.id for e in entries] == [a, b, c]
        assert (entries[0].state, entries[0].reply, entries[0].parts_sent) == (
            "reply",
            "part one\npart two",
            1,
        )
        assert (entries[1].state, entries[1].text) == ("received", "second")
        assert (entries[2].state, entries[2].notice) == ("notice", "could not reach the language model")
        assert journal.get(d) is None
        journal.mark_sent(a)
        journal.mark_notice_sent(c)
        e = journal.record(Msg("telegram", "100", "7", "later"))
        assert e > d  # ids never repeat, even after finished entries were compacted away
    with Journal(tmp_path) as journal:
        assert [(x.id, x.text) for x in journal.unfinished()] == [(b, "second"), (e, "later")]


def test_exactly_one_outcome_is_enforced(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        a = journal.record(Msg("telegram", "1", "1", "x"))
        with pytest.raises(JournalError, match="not one of"):
            journal.mark_notice_sent(a)  # no notice was chosen
        with pytest.raises(JournalError, match="not one of"):
            journal.mark_part_sent(a, 1)  # no reply staged
        journal.reply_ready(a, "r")
        with pytest.raises(JournalError, match="not one of"):
            journal.reply_ready(a, "another reply")
        journal.mark_part_sent(a, 2)
        with pytest.raises(JournalError, match="already 2 sent"):
            journal.mark_part_sent(a, 2)
        journal.mark_sent(a)
        for second_outcome in (
            lambda: journal.mark_sent(a),
            lambda: journal.mark_failed(a, "n"),
            lambda: journal.mark_notice_sent(a),
        ):
            with pytest.raises(JournalError, match="already finished"):
                second_outcome()
        b = journal.record(Msg("telegram", "1", "1", "y"))
        journal.reply_ready(b, "half sent")
        journal.mark_part_sent(b, 1)
        journal.mark_failed(b, "cancelled by /reset")  # a reply that cannot be finished becomes a notice
        with pytest.raises(JournalError, match="not one of"):
            journal.mark_sent(b)
        journal.mark_notice_sent(b)
        assert journal.unfinished() == []


def test_unfinished_is_in_order_per_chat(tmp_path: Path) -> None:
    with Journal(tmp_path, compact_min_bytes=256) as journal:
        ids = [journal.record(Msg("telegram", str(n % 3), "7", f"m{n}")) for n in range(30)]
        finished = [entry_id for n, entry_id in enumerate(ids) if n % 4]
        for entry_id in finished:
            journal.mark_sent(entry_id)
        assert journal.compactions > 1  # the one on open, then at least one while finishing
    with Journal(tmp_path) as journal:
        chats = journal.by_chat()
        assert set(chats) == {("telegram", "0"), ("telegram", "1"), ("telegram", "2")}
        for (_channel, chat), entries in chats.items():
            expected = [f"m{n}" for n in range(30) if n % 3 == int(chat) and n % 4 == 0]
            assert [e.text for e in entries] == expected
        assert [e.id for e in journal.unfinished()] == ids[::4]


def test_a_redelivered_message_is_recognized_across_restarts(tmp_path: Path) -> None:
    hi = Msg("telegram", "1", "7", "hi")
    with Journal(tmp_path, compact_min_bytes=256, max_recent_deliveries=50, max_unfinished=1) as journal:
        first = journal.record(hi, delivery_id="1001")
        assert first is not None
        assert journal.record(hi, delivery_id="1001") is None  # not refused as "full": known
        journal.reply_ready(first, "hello")
        journal.mark_sent(first)  # finished, and compacted away below
        other = journal.record(Msg("slack", "C1", "U1", "hi"), delivery_id="1001")
        assert other is not None  # delivery ids are per channel
        journal.mark_sent(other)
        assert journal.compactions > 1
    with Journal(tmp_path, max_recent_deliveries=50) as journal:
        assert journal.unfinished() == []
        assert journal.record(hi, delivery_id="1001") is None
        for n in range(50):
            entry_id = journal.record(hi, delivery_id=str(2000 + n))
            assert entry_id is not None
            journal.mark_sent(entry_id)
        assert not journal.seen("telegram", "1001")  # bounded: the oldest is forgotten
        assert journal.seen("slack", "1001")
    with Journal(tmp_path, max_recent_deliveries=50) as journal:
        assert [journal.seen("telegram", str(2000 + n)) for n in (0, 49)] == [True, True]
        assert not journal.seen("telegram", "1001")


def test_intake_is_refused_past_the_caps(tmp_path: Path) -> None:
    with Journal(tmp_path, max_unfinished=3) as journal:
        ids = [journal.record(Msg("telegram", "1", "1", "x")) for _ in range(3)]
        with pytest.raises(JournalFull, match=r"3 messages .* are waiting for an answer — fix: "):
            journal.record(Msg("telegram", "1", "1", "refused"))
        journal.mark_sent(ids[0])
        journal.record(Msg("telegram", "1", "1", "accepted again"))
        assert [e.text for e in journal.unfinished()][-1] == "accepted again"
    with Journal(tmp_path / "bytes", max_unfinished_bytes=2000) as journal:
        accepted = 0
        with pytest.raises(JournalFull):
            while True:
                journal.record(Msg("telegram", "1", "1", "y" * 300))
                accepted += 1
        assert accepted == 6  # ~330 bytes each: the sixth one crosses 2,000
        assert 2000 <= journal.unfinished_bytes < 2000 + 400


def test_huge_texts_are_kept_cut_with_a_note_and_secrets_redacted(tmp_path: Path) -> None:
    secret = "sk-or-v1-" + "ab" * 32
    redact = lambda text: text.replace(secret, "***")  # noqa: E731
    with Journal(tmp_path, max_text_chars=100, redact=redact) as journal:
        a = journal.record(Msg("telegram", "1", "1", "z" * 250))
        kept = journal.reply_ready(a, f"key {secret} " + "w" * 1_000_000)
        b = journal.record(Msg("telegram", "1", "1", "lone \ud800 surrogate"))
        assert journal.mark_failed(b, f"error echoing {secret}") == "error echoing ***"
    assert kept == "key *** " + "w" * 92 + "\n[cut by the gateway: 999908 more characters]"
    with Journal(tmp_path) as journal:
        entry, second = journal.unfinished()
        assert entry.text == "z" * 100 + "\n[cut by the gateway: 150 more characters]"
        assert entry.reply == kept
        assert second.text == "lone ? surrogate"
    data = (tmp_path / "journal.bin").read_bytes()
    assert secret.encode() not in data
    assert len(data) < 1000


def test_compaction_keeps_the_file_bounded(tmp_path: Path) -> None:
    with Journal(tmp_path, compact_min_bytes=2048) as journal:
        keep = journal.record(Msg("telegram", "1", "1", "kept across compactions"))
        journal.reply_ready(keep, "staged")
        journal.mark_part_sent(keep, 1)
        biggest = 0
        for n in range(300):
            entry_id = journal.record(Msg("telegram", "2", "1", f"message {n}"))
            journal.reply_ready(entry_id, f"reply {n}")
            journal.mark_sent(entry_id)
            biggest = max(biggest, journal.file_bytes, os.path.getsize(journal.path))
        assert journal.compactions >= 10
        assert biggest <= 2048 + 100  # compacts as soon as it passes the threshold
        assert len(journal.unfinished()) == 1
    with Journal(tmp_path) as journal:
        (entry,) = journal.unfinished()
        assert (entry.id, entry.text, entry.reply, entry.parts_sent) == (
            keep,
            "kept across compactions",
            "staged",
            1,
        )
        assert journal.record(Msg("telegram", "1", "1", "next")) == keep + 301
    assert sorted(os.listdir(tmp_path)) == ["journal.bin", "lock"]  # no temp file left behind


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    with pytest.raises(JournalError, match="in use by another gateway process — fix: "):
        Journal(tmp_path)
    journal.close()
    with pytest.raises(JournalError, match="closed"):
        journal.record(Msg("telegram", "1", "1", "x"))
    with Journal(tmp_path) as again:
        assert again.unfinished() == []


def test_unusable_folder_is_a_plain_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(JournalError, match=r"cannot open the delivery journal folder .* — fix: "):
        Journal(tmp_path / "file" / "journal")

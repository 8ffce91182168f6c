"""Documents: names made safe, the inbox's crash-safe no-overwrite save, attachment picking, the
journal's reference, and the media.documents config section."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from picoclaw_gateway.channels.attachments import Fields, pick_attachment
from picoclaw_gateway.config_validator import validate
from picoclaw_gateway.delivery import Journal
from picoclaw_gateway.media.inbox import MAX_NAME_BYTES, InboxFile, chat_folder, safe_name
from picoclaw_gateway.media.ref import MediaRef
from tests.test_unit_media import _config

FIELDS = Fields("url", "type", "size", "w", "h", "s", "filename")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\notes.txt", "notes.txt"),
        ("nul\x00byte.txt", "nul_byte.txt"),
        ("line\nbreak\r.md", "line_break_.md"),
        ("..", "file"),
        ("...", "file"),
        ("", "file"),
        ("/", "file"),
        (".env", "env"),
        ('a<b>c:d"e|f?g*h.txt', "a_b_c_d_e_f_g_h.txt"),
        ("archive.tar.gz", "archive.tar.gz"),
        ("x." + "y" * 40, "x." + "y" * 40),  # not an extension: cut as one name
    ],
)
def test_safe_name_is_one_plain_component(raw: str, expected: str) -> None:
    assert safe_name(raw) == expected


def test_safe_name_caps_the_length_keeping_the_extension() -> None:
    name = safe_name("ü" * 500 + ".docx")
    assert name.endswith(".docx") and len(name.encode()) <= MAX_NAME_BYTES
    assert "/" not in chat_folder("slack", "C1:1700000000.000100") and chat_folder(".x", "../y")[0] != "."


def test_inbox_never_overwrites_and_leaves_no_temp_file(tmp_path: Path) -> None:
    names = []
    for data in (b"one", b"two", b"three"):
        target = InboxFile(tmp_path, "telegram-1", "a.txt")
        target.write(data)
        names.append(target.commit())
    assert names == ["inbox/telegram-1/a.txt", "inbox/telegram-1/a (2).txt", "inbox/telegram-1/a (3).txt"]
    assert [(tmp_path / n).read_bytes() for n in names] == [b"one", b"two", b"three"]
    folder = tmp_path / "inbox" / "telegram-1"
    assert sorted(p.name for p in folder.iterdir()) == ["a (2).txt", "a (3).txt", "a.txt"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o770
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o660 and p.stat().st_nlink == 1 for p in folder.iterdir())


def test_inbox_discard_removes_the_partial_file(tmp_path: Path) -> None:
    target = InboxFile(tmp_path, "c", "big.bin")
    target.write(b"x" * 1000)
    target.discard()
    assert list((tmp_path / "inbox" / "c").iterdir()) == []


def test_inbox_refuses_a_linked_folder(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "inbox").symlink_to(elsewhere)
    with pytest.raises(OSError):
        InboxFile(tmp_path / "ws", "c", "a.txt")
    assert list(elsewhere.iterdir()) == []


def test_inbox_keeps_the_setgid_bit_of_a_shared_workspace(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o2770)  # noqa: S103 - the shared workspace's mode, what the test is about
    if not os.stat(tmp_path).st_mode & stat.S_ISGID:
        pytest.skip("this file system drops the setgid bit")
    InboxFile(tmp_path, "c", "a.txt").discard()
    for folder in (tmp_path / "inbox", tmp_path / "inbox" / "c"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o2770


def test_an_attachment_that_is_neither_image_nor_audio_is_a_document() -> None:
    items = [{"url": "https://x/1", "type": "application/zip", "size": 10, "filename": "a.zip"},
             {"url": "https://x/2", "type": "image/png", "size": 5, "filename": "b.png"}]  # fmt: skip
    assert pick_attachment(items, FIELDS).kind == "image"  # type: ignore[union-attr]
    assert pick_attachment(items[:1], FIELDS) == MediaRef(
        "document", "https://x/1", "application/zip", size=10, name="a.zip"
    )
    assert pick_attachment([{"type": "text/plain"}], FIELDS) is None


def test_the_journal_keeps_a_documents_name(tmp_path: Path) -> None:
    ref = MediaRef("document", "BQACAgIAAx", "application/pdf", size=1234, name="../x\x00.pdf")
    message = SimpleNamespace(channel="telegram", chat_id="1", user_id="1", text="", media=ref)
    with Journal(tmp_path) as journal:
        entry_id = journal.record(message)
    with Journal(tmp_path) as journal:
        entry = journal.get(entry_id)
        assert entry is not None and entry.media == ref


def test_documents_config_is_validated_with_path_and_fix() -> None:
    ok = validate(_config({"documents": {"enabled": False, "max_bytes": 4096}}))
    assert ok.valid and ok.normalized is not None
    assert ok.normalized["media"]["documents"] == {
        "enabled": False, "max_bytes": 4096, "discord_upload_max_bytes": 10485760
    }  # fmt: skip
    for documents, path, words in (
        ({"enabled": "yes"}, "$.media.documents.enabled", "true"),
        ({"max_bytes": 10}, "$.media.documents.max_bytes", "must be from"),
        ({"discord_upload_max_bytes": 10**12}, "$.media.documents.discord_upload_max_bytes", "must be"),
        ({"max_byte": 1}, "$.media.documents.max_byte", "max_bytes"),
    ):
        result = validate(_config({"documents": documents}))
        problems = result.errors + result.warnings
        assert any(p.path == path and words in str(p) for p in problems), [str(p) for p in problems]

"""Files on Telegram, on the real gateway process: a document is fetched (getFile + file download),
saved into the workspace's inbox/ and announced to the LLM; send_file uploads a workspace file
(sendDocument, multipart) and refuses what would leave the workspace or the platform's limit."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

from tests.e2e.conftest import ALLOWED_USER, StartGateway
from tests.e2e.gateway_process import GatewayProcess
from tests.fakes import llm_script
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram

INBOX = f"inbox/telegram-{ALLOWED_USER}"
_SAVED = re.compile(r"\[the user sent a file, saved as (.+) \(([0-9.]+ [KM]B)\)\]")


def payload(size: int, seed: int = 7) -> bytes:
    """Bytes that are not text: every value, in an order a shifted copy would not match."""
    return bytes((i * 31 + seed + i // 251) % 256 for i in range(size))


def last_user_text(openai_fake: FakeOpenAI) -> str:
    messages = openai_fake.script.requests[-1].body["messages"]
    return str([m for m in messages if m["role"] == "user"][-1]["content"])


def saved_path(openai_fake: FakeOpenAI, workspace: Path) -> Path:
    """The file the LLM was told about, checked to be a plain file inside the workspace's inbox."""
    found = _SAVED.search(last_user_text(openai_fake))
    assert found, last_user_text(openai_fake)
    path = workspace / found.group(1)
    assert path.resolve().is_relative_to((workspace / "inbox").resolve()), path
    assert stat.S_ISREG(os.lstat(path).st_mode)
    return path


def tool_results(openai_fake: FakeOpenAI) -> list[str]:
    return [m["content"] for m in openai_fake.script.requests[-1].body["messages"] if m["role"] == "tool"]


def document(telegram: FakeTelegram, data: bytes, name: str | None, size: int | None = -1) -> dict[str, Any]:
    """Telegram's document field; size -1: the real size, None: not announced."""
    fields: dict[str, Any] = {"file_id": telegram.add_file(data), "file_unique_id": f"u{len(data)}",
                              "mime_type": "application/pdf"}  # fmt: skip
    if name is not None:
        fields["file_name"] = name
    if size is not None:
        fields["file_size"] = len(data) if size == -1 else size
    return {"document": fields}


async def send(telegram: FakeTelegram, fields: dict[str, Any], caption: str | None = None) -> str:
    before = len(telegram.sent_to(ALLOWED_USER))
    await telegram.push_media(ALLOWED_USER, fields, caption)
    sent = await telegram.wait_for_sent(before + 1, chat_id=ALLOWED_USER, wait_s=20)
    return sent[before].text


async def test_a_document_is_saved_in_the_workspace_and_sent_back(
    gateway: GatewayProcess, telegram: FakeTelegram, openai_fake: FakeOpenAI, workspace: Path
) -> None:
    data = payload(300 * 1024)
    assert await send(telegram, document(telegram, data, "q3-report.pdf"), "summarize") == (
        f"echo: [the user sent a file, saved as {INBOX}/q3-report.pdf (300 KB)]\nsummarize"
    )
    saved = saved_path(openai_fake, workspace)
    assert saved.read_bytes() == data
    assert stat.S_IMODE(saved.stat().st_mode) == 0o660  # the sandbox's group may work on it
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o770
    assert not [p for p in saved.parent.iterdir() if p.name.startswith(".")], "no temp file left"

    # The same name again: a new file next to it, never an overwrite.
    other = payload(5000, seed=1)
    await send(telegram, document(telegram, other, "q3-report.pdf"))
    assert saved_path(openai_fake, workspace) == saved.with_name("q3-report (2).pdf")
    assert saved.read_bytes() == data and saved.with_name("q3-report (2).pdf").read_bytes() == other

    openai_fake.script.add(
        llm_script.tool_call("send_file", {"path": f"{INBOX}/q3-report.pdf", "caption": "as asked"}),
        match="send it back",
    )
    openai_fake.script.add(llm_script.text("Here it is."))
    before = len(telegram.sent_to(ALLOWED_USER))
    await telegram.push_update(ALLOWED_USER, "send it back please")
    await telegram.wait_for_sent(before + 1, chat_id=ALLOWED_USER, wait_s=20)
    [sent] = telegram.documents
    assert (sent.data, sent.filename, sent.caption) == (data, "q3-report.pdf", "as asked")
    assert tool_results(openai_fake) == [f"sent {INBOX}/q3-report.pdf (300 KB) to the chat"]


async def test_hostile_file_names_stay_one_plain_name_in_the_inbox(
    gateway: GatewayProcess, telegram: FakeTelegram, openai_fake: FakeOpenAI, workspace: Path
) -> None:
    cases = {
        "../../etc/passwd": "passwd",
        "..\\..\\boot.ini": "boot.ini",
        "evil\x00name\x1b[31m.sh": "evil_name_[31m.sh",
        "..": "file.pdf",  # nothing left of it: named after the type
        "/": "file.pdf",
        ".bashrc": "bashrc",
        "a" * 300 + ".txt": "a" * 116 + ".txt",  # 120 bytes, the extension kept
        "é" * 200: "é" * 60,  # cut on a character boundary
    }
    for raw, expected in cases.items():
        data = payload(2048, seed=len(raw))
        await send(telegram, document(telegram, data, raw))
        saved = saved_path(openai_fake, workspace)
        assert saved.parent == workspace / INBOX and saved.read_bytes() == data
        assert saved.name == expected or saved.name.startswith(expected.rsplit(".", 1)[0] + " ("), saved
    await send(telegram, document(telegram, b"no name", None))  # Telegram may send no file_name
    assert saved_path(openai_fake, workspace).name.startswith("file")
    assert not (workspace.parent / "etc").exists() and not (workspace / "etc").exists()


async def test_a_document_over_telegrams_download_limit_gets_a_notice_and_no_download(
    gateway: GatewayProcess, telegram: FakeTelegram, openai_fake: FakeOpenAI
) -> None:
    reply = await send(telegram, document(telegram, b"x" * 100, "huge.iso", size=25 * 1024 * 1024))
    assert reply == "This file is too large for me (25.0 MB; the limit is 20.0 MB)."
    assert telegram.calls_to("getFile") == [] and openai_fake.script.requests == []


async def test_documents_over_the_configured_cap_and_turned_off(
    start_gateway: StartGateway, telegram: FakeTelegram, openai_fake: FakeOpenAI, workspace: Path
) -> None:
    await start_gateway(extra={"media": {"documents": {"max_bytes": 4096}}})
    # No size announced: the download stops at the cap, and nothing is left in the inbox.
    reply = await send(telegram, document(telegram, payload(10_000), "big.bin", size=None))
    assert reply.startswith("This file is too large for me (") and reply.endswith("the limit is 4 KB).")
    assert list((workspace / INBOX).iterdir()) == []
    reply = await send(telegram, document(telegram, payload(9000), "big.bin"))
    assert reply == "This file is too large for me (8 KB; the limit is 4 KB)."
    assert len(telegram.calls_to("getFile")) == 1 and openai_fake.script.requests == []


async def test_send_file_refuses_links_out_of_the_workspace_and_files_over_the_limit(
    gateway: GatewayProcess, telegram: FakeTelegram, openai_fake: FakeOpenAI, workspace: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "outside-secret.txt"
    secret.write_text("the gateway's keys")
    outgoing = workspace / "outgoing"
    outgoing.mkdir(exist_ok=True)
    for name in ("leak.txt", "hard.txt", "hard-twin.txt", "huge.bin"):
        (outgoing / name).unlink(missing_ok=True)
    (outgoing / "leak.txt").symlink_to(secret)
    try:
        os.link(secret, outgoing / "hard.txt")
    except OSError:  # another file system: a second name inside the workspace is refused all the same
        (outgoing / "hard-twin.txt").write_text("twin")
        os.link(outgoing / "hard-twin.txt", outgoing / "hard.txt")
    with (outgoing / "huge.bin").open("wb") as handle:
        handle.truncate(50 * 1000 * 1000 + 1)  # sparse: costs no disk; over the Bot API's 50 MB
    calls = [
        {"path": "outgoing/leak.txt"},
        {"path": "outgoing/hard.txt"},
        {"path": "outgoing/huge.bin"},
        {"path": str(secret)},
        {"path": "../state/journal"},
        {"path": "outgoing"},
    ]
    for args in calls:
        openai_fake.script.add(llm_script.tool_call("send_file", args), match="send those")
    openai_fake.script.add(llm_script.text("none of them could go"))
    before = len(telegram.sent_to(ALLOWED_USER))
    await telegram.push_update(ALLOWED_USER, "send those files")
    sent = await telegram.wait_for_sent(before + 1, chat_id=ALLOWED_USER, wait_s=20)
    assert sent[before].text == "none of them could go"
    results = tool_results(openai_fake)
    assert len(results) == len(calls) and all(r.startswith("error: ") for r in results), results
    assert "symbolic link" in results[0] or "outside the workspace" in results[0]
    assert "hard links" in results[1]
    assert "at most 47.7 MB" in results[2] and "fix:" in results[2]
    assert all("outside the workspace" in r for r in results[3:5])
    assert "not a regular file" in results[5] or "folder" in results[5]
    assert telegram.documents == [] and telegram.calls_to("sendDocument") == []

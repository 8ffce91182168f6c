"""Files on Discord (a signed CDN attachment URL in; a multipart message with files[0] out) and Slack
(url_private with the bot token in; files.getUploadURLExternal, the upload, files.completeUploadExternal
out), on the real gateway process against the platform fakes."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from tests.e2e.conftest import LaunchGateway, openrouter_llm
from tests.e2e.gateway_process import GatewayProcess
from tests.e2e.test_discord import ALLOWED as DISCORD_USER
from tests.e2e.test_discord import DISCORD_TOKEN, discord_channel
from tests.e2e.test_files import payload, saved_path, tool_results
from tests.e2e.test_slack import ALLOWED as SLACK_USER
from tests.e2e.test_slack import DM, SLACK_APP_TOKEN, SLACK_BOT_TOKEN, slack_channel
from tests.fakes import llm_script
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import FakeSlack

MIB = 1024 * 1024
DOCUMENTS = {"max_bytes": 2 * MIB, "discord_upload_max_bytes": 1 * MIB}


async def launch(
    launch_gateway: LaunchGateway, openai_fake: FakeOpenAI, channel: dict[str, Any]
) -> GatewayProcess:
    config = {"llm": openrouter_llm(openai_fake), "channels": [channel], "media": {"documents": DOCUMENTS}}
    gateway = await launch_gateway(config)
    await gateway.wait_status("/ready", 200, wait_s=30)
    return gateway


def refusals(workspace: Path, outside: Path, big: int) -> list[dict[str, Any]]:
    """send_file calls that must all be refused: a link out of the workspace, a file over the limit."""
    outside.write_text("not for the chat")
    (workspace / "out").mkdir(exist_ok=True)
    (workspace / "out" / "leak.txt").symlink_to(outside)
    with (workspace / "out" / "big.bin").open("wb") as handle:
        handle.truncate(big)
    return [{"path": "out/leak.txt"}, {"path": "out/big.bin"}]


def script_send(openai_fake: FakeOpenAI, path: str, refused: list[dict[str, Any]]) -> None:
    openai_fake.script.add(llm_script.tool_call("send_file", {"path": path, "caption": "back to you"}),
                           match="send it back")  # fmt: skip
    for args in refused:
        openai_fake.script.add(llm_script.tool_call("send_file", args), match="send it back")
    openai_fake.script.add(llm_script.text("done"))


def check_refusals(openai_fake: FakeOpenAI, limit: str) -> None:
    sent, leak, big = tool_results(openai_fake)
    assert sent.startswith("sent inbox/"), sent
    assert leak.startswith("error: ") and ("outside the workspace" in leak or "symbolic link" in leak), leak
    assert big.startswith("error: ") and f"at most {limit}" in big, big


async def test_discord_document_saved_refused_over_cap_and_sent_back(
    launch_gateway: LaunchGateway, openai_fake: FakeOpenAI, workspace: Path, tmp_path: Path
) -> None:
    fake = await FakeDiscord(DISCORD_TOKEN).start()
    try:
        await launch(launch_gateway, openai_fake, discord_channel(fake))
        await fake.wait_connected()
        data = payload(700 * 1024)
        item = fake.add_attachment(DISCORD_USER, data, "../../etc/notes.csv", "text/csv")
        await fake.push_message(DISCORD_USER, "look", extra={"attachments": [item]})
        [reply] = await fake.wait_for_sent(1, DISCORD_USER, wait_s=20)
        folder = f"inbox/discord-{DISCORD_USER}"
        assert (
            reply.content == f"echo: \\[the user sent a file, saved as {folder}/notes.csv (700 KB)\\]\nlook"
        )
        saved = saved_path(openai_fake, workspace)
        assert saved.read_bytes() == data and stat.S_IMODE(saved.stat().st_mode) == 0o660

        huge = fake.add_attachment(DISCORD_USER, b"x" * 10, "movie.mkv", "video/x-matroska")
        huge["size"] = 3 * MIB  # announced over media.documents.max_bytes: never fetched
        await fake.push_message(DISCORD_USER, "", extra={"attachments": [huge]})
        sent = await fake.wait_for_sent(2, DISCORD_USER, wait_s=20)
        assert sent[1].content == "This file is too large for me (3.0 MB; the limit is 2.0 MB)."

        script_send(openai_fake, saved.relative_to(workspace).as_posix(),
                    refusals(workspace, tmp_path / "secret.txt", MIB + 1))  # fmt: skip
        await fake.push_message(DISCORD_USER, "send it back")
        sent = await fake.wait_for_sent(4, DISCORD_USER, wait_s=20)
        with_file = sent[2]
        assert [(f.filename, f.data) for f in with_file.files] == [("notes.csv", data)]
        assert with_file.content == "back to you" and sent[3].content == "done"
        check_refusals(openai_fake, "1.0 MB")  # media.documents.discord_upload_max_bytes
    finally:
        await fake.close()


async def test_slack_document_saved_with_the_bot_token_and_sent_back_through_the_upload_flow(
    launch_gateway: LaunchGateway, openai_fake: FakeOpenAI, workspace: Path, tmp_path: Path
) -> None:
    fake = await FakeSlack(SLACK_BOT_TOKEN, SLACK_APP_TOKEN).start()
    try:
        gateway = await launch(launch_gateway, openai_fake, slack_channel(fake))
        await fake.wait_connected()
        data = payload(1536 * 1024)
        item = fake.add_file(data, "Budget\x002026 .xlsx", "application/vnd.ms-excel", filetype="xlsx")
        await fake.push_dm(SLACK_USER, "check the totals", channel=DM, files=[item])
        [reply] = await fake.wait_for_sent(1, DM, wait_s=20)
        note = f"[the user sent a file, saved as inbox/slack-{DM}/Budget_2026.xlsx (1.5 MB)]"
        assert reply.text == f"echo: {note}\ncheck the totals"
        assert fake.file_fetches == [f"Bearer {SLACK_BOT_TOKEN}"]
        saved = saved_path(openai_fake, workspace)
        assert saved.read_bytes() == data and stat.S_IMODE(saved.stat().st_mode) == 0o660

        fake.files_read_scope = False  # Slack's sign-in page (HTTP 200) must not be saved as the file
        await fake.push_dm(
            SLACK_USER, "", channel=DM, files=[fake.add_file(b"%PDF-1.7", "a.pdf", "application/pdf")]
        )
        posted = await fake.wait_for_sent(2, DM, wait_s=20)
        assert "could not fetch that file" in posted[1].text and "files:read" in posted[1].text
        assert not (workspace / "inbox" / f"slack-{DM}" / "a.pdf").exists()
        fake.files_read_scope = True

        huge = fake.add_file(b"x" * 10, "dump.sql", "text/plain")
        huge["size"] = 5 * MIB
        await fake.push_dm(SLACK_USER, "", channel=DM, files=[huge])
        posted = await fake.wait_for_sent(3, DM, wait_s=20)
        assert posted[2].text == "This file is too large for me (5.0 MB; the limit is 2.0 MB)."
        assert len(fake.file_fetches) == 2

        script_send(openai_fake, saved.relative_to(workspace).as_posix(),
                    refusals(workspace, tmp_path / "secret.txt", 1024 * MIB + 1))  # fmt: skip
        await fake.push_dm(SLACK_USER, "send it back", channel=DM)
        await fake.wait_for_sent(4, DM, wait_s=20)
        [shared] = fake.shared
        assert (shared.channel, shared.thread_ts, shared.filename) == (DM, None, "Budget_2026.xlsx")
        assert shared.data == data and shared.initial_comment == "back to you"
        assert fake.upload_auth == [None], "the upload URL is pre-signed: no token goes to it"
        check_refusals(openai_fake, "1024.0 MB")
        assert not (workspace / "inbox" / f"slack-{DM}" / "dump.sql").exists()
        assert SLACK_BOT_TOKEN not in gateway.output()
    finally:
        await fake.close()

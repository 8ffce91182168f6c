"""Discord channel pieces that need no network: authorization, mention stripping, intents, caches."""

from __future__ import annotations

import subprocess
import sys

import discord

from picoclaw_gateway.channels.base import is_allowed
from picoclaw_gateway.channels.discord import DiscordChannel, _Client, minimal_intents, strip_mention
from picoclaw_gateway.config import ChannelConfig

TOKEN = "MTEyMzQ1Njc4OTAxMjM0NTY3OA.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"


def test_allowed_users_are_matched_by_id_and_empty_means_open() -> None:
    assert is_allowed(("123456789012345678",), 123456789012345678)
    assert not is_allowed(("123456789012345678",), 987654321098765432)
    assert is_allowed((), 1)


def test_both_mention_forms_are_stripped() -> None:
    assert strip_mention("<@42> hello", 42) == "hello"
    assert strip_mention("hi <@!42>, there", 42) == "hi , there"
    assert strip_mention("<@43> not me", 42) == "<@43> not me"


def test_intents_are_minimal_and_unprivileged() -> None:
    intents = minimal_intents()
    assert intents.dm_messages and intents.guild_messages
    assert not intents.message_content and not intents.members and not intents.presences
    assert not intents.typing and not intents.voice_states


async def test_client_caches_are_trimmed() -> None:
    channel = DiscordChannel(ChannelConfig(type="discord", token=TOKEN))
    client = _Client(channel, proxy=None)
    try:
        assert client._connection.max_messages is None
        assert client._connection.member_cache_flags.value == discord.MemberCacheFlags.none().value
        assert client._connection._chunk_guilds is False
    finally:
        await client.close()


def test_telegram_only_gateway_never_imports_discord_or_slack() -> None:
    code = (
        "import sys; from picoclaw_gateway import app, core; "
        "from picoclaw_gateway.channels import create_channel; "
        "print(sorted(m for m in ('discord', 'slack_sdk') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

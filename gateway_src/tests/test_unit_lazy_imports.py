"""Channel and provider libraries are imported only when the config selects them."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["aiogram", "anthropic", "discord", "slack_sdk", "aiohttp", "rich", "click"]


def imported_after(code: str) -> set[str]:
    probe = f"import json, sys\n{code}\nprint(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_importing_the_app_and_cli_pulls_in_no_channel_or_provider_library() -> None:
    loaded = imported_after("import picoclaw_gateway.app, picoclaw_gateway.cli, picoclaw_gateway.health")
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)


def test_openrouter_provider_does_not_import_anthropic() -> None:
    code = (
        "import picoclaw_gateway.app\n"
        "from picoclaw_gateway.config import LLMConfig\n"
        "from picoclaw_gateway.providers import create_provider\n"
        "create_provider(LLMConfig('openrouter', 'k', 'm', 'https://openrouter.ai/api/v1'))"
    )
    loaded = imported_after(code)
    assert "httpx" in loaded
    assert loaded.isdisjoint(["anthropic", "aiogram", "aiohttp", "rich"])


def test_telegram_channel_does_not_import_aiohttp() -> None:
    loaded = imported_after("import picoclaw_gateway.app\nimport picoclaw_gateway.channels.telegram")
    assert "aiogram" in loaded
    assert "aiohttp" not in loaded and "anthropic" not in loaded
    assert "markdown_it" not in loaded, "the markdown parser (~80 ms to import) waits for the first reply"

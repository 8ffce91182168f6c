"""Process lifecycle: health/readiness, SIGTERM, secrets in logs, the agent and healthcheck commands."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from tests.conftest import BOT_TOKEN, OPENROUTER_KEY
from tests.e2e.conftest import AskFn, MakeConfig, StartGateway
from tests.e2e.gateway_process import GATEWAY_SRC, GatewayProcess, free_port, gateway_env
from tests.fakes import llm_script
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram


async def test_ready_is_503_until_polling_works_then_200(
    start_gateway: StartGateway, telegram: FakeTelegram
) -> None:
    telegram.get_updates_status = 502  # Telegram unreachable behind its front end
    gateway = await start_gateway(wait_polling=False)
    await gateway.wait_status("/health", 200)
    await telegram.wait_for_calls("getUpdates", 1, wait_s=20)
    assert await gateway.status("/ready") == 503
    assert await gateway.status("/health") == 200, "liveness does not depend on Telegram"
    telegram.get_updates_status = None
    await gateway.wait_status("/ready", 200, wait_s=15)


async def test_ready_soon_after_start_without_any_traffic(
    start_gateway: StartGateway, telegram: FakeTelegram
) -> None:
    # No update is ever queued: the long poll stays open, which is exactly "polling".
    gateway = await start_gateway()
    polling_started = telegram.calls_to("getUpdates")[0].at
    await gateway.wait_status("/ready", 200, wait_s=10)
    assert asyncio.get_running_loop().time() - polling_started < 10


async def test_sigterm_stops_with_exit_code_0(gateway_with_traffic: tuple) -> None:
    gateway, _ask = gateway_with_traffic
    assert await gateway.stop(signal.SIGTERM, wait_s=10) == 0
    assert await gateway.status("/health") is None


async def test_secrets_never_appear_in_logs(
    start_gateway: StartGateway, ask: AskFn, openai_fake: FakeOpenAI, telegram: FakeTelegram
) -> None:
    gateway = await start_gateway()
    await ask("normal message")
    openai_fake.script.add(llm_script.tool_call("exec", {"command": "echo tool-ran"}))
    await ask("run a tool")
    openai_fake.script.add(llm_script.error(401, "Incorrect API key provided"))
    await ask("auth failure")
    openai_fake.script.add(llm_script.error(500, "boom"))
    await ask("server failure", wait_s=20)
    telegram.flood_next_sends(1)
    await ask("flooded")
    assert await gateway.stop() == 0
    output = gateway.output()
    assert output.strip(), "the gateway logs what it does"
    bot_secret = BOT_TOKEN.split(":", 1)[1]
    for secret in (OPENROUTER_KEY, OPENROUTER_KEY[9:], BOT_TOKEN, bot_secret):
        assert secret not in output, "a secret leaked into the gateway's output"


async def test_agent_command_prints_the_answer(
    make_config: MakeConfig, openai_fake: FakeOpenAI, workspace: Path
) -> None:
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "picoclaw_gateway", "agent", "-m", "hi"],
        *["--config", str(make_config()), "--workspace", str(workspace)],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=gateway_env(),
        cwd=GATEWAY_SRC,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().strip() == "echo: hi"
    assert openai_fake.script.requests[-1].last_user_text == "hi"
    for secret in (OPENROUTER_KEY, BOT_TOKEN):
        assert secret not in stdout.decode() + stderr.decode()


async def _healthcheck(port: int) -> int:
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "picoclaw_gateway", "healthcheck", "--health-port", str(port)],
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        env=gateway_env(),
    )
    return await asyncio.wait_for(process.wait(), 30)


async def test_healthcheck_command_exit_codes(gateway: GatewayProcess) -> None:
    assert await _healthcheck(gateway.health_port) == 0
    assert await _healthcheck(free_port()) == 1

"""Wires config, channels, agent, sessions and health into the running gateway.

Channel and provider libraries are imported only for what the config selects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from picoclaw_gateway import lean_imports
from picoclaw_gateway.config import ConfigError, GatewayConfig, load_config
from picoclaw_gateway.health import DEFAULT_HEALTH_PORT

if TYPE_CHECKING:
    from picoclaw_gateway.channels.base import Channel
    from picoclaw_gateway.delivery import Journal
    from picoclaw_gateway.router import ChatRouter
    from picoclaw_gateway.sandbox.local import Tools

lean_imports.apply()

log = logging.getLogger("picoclaw")

# SIGTERM to exit: Docker's stop timeout is 10 s (then SIGKILL); a second is left for the exit itself.
SHUTDOWN_GRACE_S = 9.0
CLOSE_RESERVE_S = 1.5  # of the grace: closing connections after the chats have stopped
CHANNEL_STOP_S = 2.0
HOUSEKEEPING_INTERVAL_S = 5.0  # memory.Trimmer decides whether a trim is due


def default_state_dir(workspace: str | Path) -> Path:
    """A sibling of the workspace named `state` (/workspace -> /state): outside the tools' reach."""
    return Path(workspace).absolute().parent / "state"


def _state_dir(state_dir: str | None, workspace: Path) -> Path | int:
    """The gateway's own state folder (the delivery journal), created 0700; never in the workspace."""
    path = Path(state_dir) if state_dir else default_state_dir(workspace)
    if path.resolve().is_relative_to(workspace.resolve()):
        print(
            f"picoclaw: state directory {path} is inside the workspace {workspace}, where the tools "
            "could read and change it (fix: pass --state-dir or PICOCLAW_STATE_DIR outside the workspace)",
            file=sys.stderr,
        )
        return 2
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        print(
            f"picoclaw: state directory {path} is not usable: {exc.strerror} "
            "(fix: mount a writable folder there or pass --state-dir)",
            file=sys.stderr,
        )
        return 2
    return path


def _load(config_path: str, workspace: str, health_port: int) -> GatewayConfig | int:
    try:
        config, warnings = load_config(config_path, workspace, health_port)
    except ConfigError as exc:
        print(f"picoclaw: invalid config {config_path}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    from picoclaw_gateway.logging_setup import setup_logging

    setup_logging(config.secrets())
    for warning in warnings:
        log.warning("config: %s", warning)
    try:
        config.workspace.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(
            f"picoclaw: workspace {workspace} is not usable: {exc.strerror} "
            "(fix: mount a writable folder there or pass --workspace)",
            file=sys.stderr,
        )
        return 2
    return config


class Gateway:
    def __init__(self, config: GatewayConfig, state_dir: Path) -> None:
        self.config = config
        self.state_dir = state_dir
        self._stop = asyncio.Event()

    def request_stop(self) -> None:
        self._stop.set()

    async def run(self) -> int:
        from picoclaw_gateway.delivery import Journal, JournalError
        from picoclaw_gateway.logging_setup import SecretMaskingFilter

        # Before anything can receive a message: what a previous run accepted is resumed from it.
        try:
            redact = SecretMaskingFilter(self.config.secrets()).mask  # the journal holds texts and replies
            journal = Journal(self.state_dir / "journal", redact=redact)
        except JournalError as exc:
            log.error("%s", exc)
            return 2
        try:
            return await self._run(journal)
        finally:
            journal.close()

    async def _run(self, journal: Journal) -> int:
        from picoclaw_gateway import memory
        from picoclaw_gateway.agent.loop import AgentLoop
        from picoclaw_gateway.api import start_api
        from picoclaw_gateway.channels import create_channel
        from picoclaw_gateway.chat_extras import build_extras
        from picoclaw_gateway.core import ChatCore
        from picoclaw_gateway.delivery import own_messages
        from picoclaw_gateway.health import HealthServer
        from picoclaw_gateway.media.turn import media_turns
        from picoclaw_gateway.providers import create_provider
        from picoclaw_gateway.router import ChatRouter
        from picoclaw_gateway.sessions import SessionStore, migrate_from_workspace

        cfg = self.config
        loop = asyncio.get_running_loop()
        # Only asyncio's getaddrinfo (DNS) uses this executor; each thread can cost a malloc arena.
        loop.set_default_executor(ThreadPoolExecutor(max_workers=2, thread_name_prefix="io"))
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)

        channels: dict[str, Channel] = {}
        for index, channel_cfg in enumerate(cfg.channels):
            try:
                channel = create_channel(channel_cfg)
            except ImportError as exc:
                log.error(
                    "channel %s needs a library that is not installed (%s); install picoclaw-gateway[%s]",
                    channel_cfg.type,
                    exc.name,
                    channel_cfg.type,
                )
                return 2
            channel.image_fit = (cfg.media.image_max_bytes, cfg.media.image_max_side_px)
            channel.configure_files(cfg.media.documents.discord_upload_max_bytes)
            if channel.name in channels:
                channel.name = f"{channel.name}{index}"
            channels[channel.name] = channel

        tools: Tools | None = None  # opened after the health server starts; a ping keeps its state

        def readiness() -> tuple[bool, str]:
            for name, channel in channels.items():
                if not channel.ready:
                    return False, f"{name}: {channel.not_ready_reason}"
            if tools is None or tools.problem:
                return False, f"tools sandbox: {tools.problem if tools else 'not started yet'}"
            return True, ""

        # Heavy imports (SDKs) happen before the health server starts: /health must not go
        # unanswered while the loop is blocked importing.
        try:
            provider = create_provider(cfg.llm)
        except ImportError as exc:
            log.error(
                "llm provider %s needs a library that is not installed (%s); install picoclaw-gateway[%s]",
                cfg.llm.provider,
                exc.name,
                cfg.llm.provider,
            )
            return 2
        health = HealthServer(cfg.health_port, readiness)
        try:
            await health.start()
        except OSError as exc:
            log.error("cannot listen on 127.0.0.1:%d for health checks: %s", cfg.health_port, exc.strerror)
            await provider.close()
            return 1

        from picoclaw_gateway.sandbox.local import open_tools

        tools = await open_tools(cfg)
        # Pinging from now on (a local sandbox starts at the first ping) while the rest starts up.
        sandbox_watch = asyncio.create_task(tools.watch(), name="sandbox-watch")
        registry, schedules = tools.registry, None
        if cfg.schedules.enabled:
            from picoclaw_gateway.agent.tools.base import ToolRegistry
            from picoclaw_gateway.schedules import ScheduleFeature

            schedules = ScheduleFeature(cfg.schedules, self.state_dir)
            registry = ToolRegistry([*registry.tools(), schedules.tool])  # runs in the gateway: no sandbox
        if cfg.media.documents.enabled:
            from picoclaw_gateway.agent.tools.base import ToolRegistry
            from picoclaw_gateway.agent.tools.send_file import SendFileTool

            # In the gateway: it needs the chat's connection; it reads only beneath the workspace.
            registry = ToolRegistry([*registry.tools(), SendFileTool(cfg.workspace, channels)])
        agent = AgentLoop(
            provider,
            registry,
            cfg.agent.system_prompt,
            cfg.agent.max_tool_iterations,
            max_reply_chars=cfg.agent.max_reply_chars,
            max_response_bytes=cfg.llm.max_response_bytes,
        )
        moved = migrate_from_workspace(cfg.workspace, self.state_dir)
        if moved:
            log.info("moved %d chat histories from the workspace into the state directory", moved)
        sessions = SessionStore(
            self.state_dir,
            cfg.agent.history_limit,
            cfg.agent.history_max_chars,
            cfg.agent.history_message_max_chars,
        )
        extras = build_extras(cfg, self.state_dir, channels, journal)
        commands = schedules.commands if schedules is not None else None
        core = ChatCore(agent, sessions, journal, extras=extras, media=media_turns(cfg), commands=commands)
        router = ChatRouter(core, channels)
        try:
            api = await start_api(cfg.api, core, channels)
        except OSError as exc:
            log.error("cannot listen on %s:%d for the automation API: %s (fix: free the port or change "
                      "api.listen / api.port)", cfg.api.listen, cfg.api.port, exc.strerror)  # fmt: skip
            sandbox_watch.cancel()
            for closer in (provider.close, health.close, tools.close):
                with contextlib.suppress(Exception):
                    await closer()
            return 1
        staged = own_messages.stage_interrupted(journal)  # never a turn for the LLM, even half-recorded
        if staged:
            log.info("staged %d reminders or alerts a crash interrupted", staged)
        if schedules is not None:
            schedules.start(journal, router)
        resumed = router.resume()  # before the channels start: ahead of anything new in each chat
        if resumed:
            log.info("resuming %d unfinished messages from the delivery journal", resumed)
        channel_tasks = [
            asyncio.create_task(self._supervise(channel, router), name=f"channel-{name}")
            for name, channel in channels.items()
        ]
        log.info(
            "picoclaw gateway started: channels=%s provider=%s model=%s fallbacks=%s tools=%s",
            ",".join(channels),
            cfg.llm.provider,
            cfg.llm.model,
            ",".join(model.model for model in cfg.llm.fallbacks) or "none",
            ",".join(agent.tools.names()),
        )
        memory.settle_after_startup()
        trimmer = memory.Trimmer()
        background = [asyncio.create_task(self._housekeeping(lambda: (trimmer.maybe_trim(), extras.flush())))]
        if cfg.heartbeat.enabled:
            from picoclaw_gateway.heartbeat import start_heartbeat

            background.append(start_heartbeat(cfg, agent, router, self.state_dir))
        background.append(sandbox_watch)

        await self._stop.wait()
        deadline = loop.time() + SHUTDOWN_GRACE_S
        log.info("shutting down: no new messages; finishing queued ones for up to %.0f s", SHUTDOWN_GRACE_S)
        # Intake first, so nothing is acknowledged to a platform that was not recorded.
        for channel in channels.values():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(channel.stop(), CHANNEL_STOP_S)
        for task in (*channel_tasks, *background):
            task.cancel()
        await asyncio.gather(*channel_tasks, *background, return_exceptions=True)
        if schedules is not None:
            await schedules.stop()
        await router.shutdown(max(0.0, deadline - loop.time() - CLOSE_RESERVE_S))
        extras.flush()
        api_close = (api.close,) if api is not None else ()
        for closer in (
            *api_close,
            provider.close,
            *(c.close for c in channels.values()),
            health.close,
            tools.close,
        ):
            with contextlib.suppress(Exception):
                await closer()
        log.info("stopped")
        return 0

    async def _supervise(self, channel: Channel, router: ChatRouter) -> None:
        """A channel's run() handles its own errors; this restarts it if it still dies."""
        while not self._stop.is_set():
            try:
                await channel.run(router.submit)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                channel.set_not_ready(f"channel crashed: {type(exc).__name__}")
                log.exception("channel %s crashed; restarting in 5 s", channel.name)
                await asyncio.sleep(5)

    async def _housekeeping(self, trim: Callable[[], object]) -> None:
        while True:
            await asyncio.sleep(HOUSEKEEPING_INTERVAL_S)
            trim()


def _harden() -> None:
    from picoclaw_gateway.hardening import set_non_dumpable

    try:
        set_non_dumpable()  # nothing of our uid may read our memory or environment (the keys)
    except OSError as exc:
        log.warning("could not make the gateway non-dumpable: %s", exc)


def run_gateway(config_path: str, workspace: str, health_port: int, state_dir: str | None = None) -> int:
    _harden()
    loaded = _load(config_path, workspace, health_port)
    if isinstance(loaded, int):
        return loaded
    state = _state_dir(state_dir, loaded.workspace)
    if isinstance(state, int):
        return state
    try:
        return asyncio.run(Gateway(loaded, state).run())
    except KeyboardInterrupt:
        return 0


async def _agent_once(config: GatewayConfig, message: str) -> int:
    from picoclaw_gateway.agent.loop import AgentLoop
    from picoclaw_gateway.providers import create_provider
    from picoclaw_gateway.sandbox.local import open_tools

    provider = create_provider(config.llm)
    tools = await open_tools(config)
    try:
        agent = AgentLoop(
            provider,
            tools.registry,
            config.agent.system_prompt,
            config.agent.max_tool_iterations,
            max_reply_chars=config.agent.max_reply_chars,
            max_response_bytes=config.llm.max_response_bytes,
        )
        result = await agent.run_turn([], message)
    finally:
        await provider.close()
        await tools.close()
    print(result.reply)
    return 0 if result.new_messages else 1


def run_agent_once(config_path: str, workspace: str, message: str) -> int:
    _harden()
    loaded = _load(config_path, workspace, DEFAULT_HEALTH_PORT)  # the agent command listens on no port
    if isinstance(loaded, int):
        return loaded
    return asyncio.run(_agent_once(loaded, message))

"""The scheduled jobs of every chat, kept in one JSON file in the gateway's state directory.

Every change rewrites the whole file crash-safely (temp file, fsync, os.replace, fsync of the
folder): after a crash the file holds either the jobs before the change or after it, never a
mix. The file is small (at most MAX_JOBS_TOTAL jobs of capped texts), so a rewrite per change is
cheap, and it is read once at start. A job that cannot be read back is skipped with a warning
rather than stopping the gateway.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from picoclaw_gateway.durable import replace_file

log = logging.getLogger(__name__)

JOBS_FILE = "schedules.json"
MAX_JOBS_TOTAL = 2000  # across all chats: bounds the file and the memory (~1 KB per job)
ACTIONS = ("message", "agent")


class StoreError(Exception):
    """The jobs file cannot be written; the message says what is wrong and the fix."""


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    channel: str  # the channel's unique name in this gateway
    chat_id: str
    user_id: str  # who created it
    kind: str  # "at" | "every" | "cron"
    spec: str  # at: ISO time as given; every: seconds; cron: the expression
    tz: str
    action: str  # "message": send `text`; "agent": run an agent turn with `text` as the instruction
    text: str
    created_at: float
    next_due: float

    @property
    def chat(self) -> tuple[str, str]:
        return (self.channel, self.chat_id)


def _job(raw: Any) -> Job:
    if not isinstance(raw, dict):
        raise TypeError("not an object")
    job = Job(**raw)
    for name in ("channel", "chat_id", "user_id", "kind", "spec", "tz", "action", "text"):
        if not isinstance(getattr(job, name), str):
            raise TypeError(f"{name} is not a string")
    if not isinstance(job.id, int) or job.action not in ACTIONS:
        raise TypeError("bad id or action")
    return replace(job, created_at=float(job.created_at), next_due=float(job.next_due))


class JobStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / JOBS_FILE
        self._jobs: dict[int, Job] = {}
        self._next_id = 1
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            # Only a file someone edited by hand can get here (writes are atomic): keep it aside.
            log.error("cannot read the scheduled jobs %s (%s); starting without them", self.path, exc)
            return
        jobs = data.get("jobs", []) if isinstance(data, dict) else []
        for raw in jobs if isinstance(jobs, list) else []:
            try:
                job = _job(raw)
            except (TypeError, ValueError) as exc:
                log.warning("skipping a scheduled job that cannot be read back: %s", exc)
                continue
            self._jobs[job.id] = job
        next_id = data.get("next_id", 1) if isinstance(data, dict) else 1
        self._next_id = max(
            [next_id if isinstance(next_id, int) else 1, *(j.id + 1 for j in self._jobs.values())]
        )

    # -- reading -----------------------------------------------------------------------------------

    def all(self) -> list[Job]:
        return list(self._jobs.values())

    def of_chat(self, channel: str, chat_id: str) -> list[Job]:
        return sorted(
            (j for j in self._jobs.values() if j.chat == (channel, chat_id)), key=lambda j: j.next_due
        )

    def get(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id)

    def __len__(self) -> int:
        return len(self._jobs)

    # -- changing: each one durable when it returns ------------------------------------------------

    def add(self, job: Job) -> Job:
        """Store `job` under the next id (its own id is ignored); returns it as stored."""
        stored = replace(job, id=self._next_id)
        self._write({**self._jobs, stored.id: stored}, self._next_id + 1)
        return stored

    def update(self, job: Job) -> None:
        self._write({**self._jobs, job.id: job}, self._next_id)

    def remove(self, job_id: int) -> None:
        jobs = dict(self._jobs)
        jobs.pop(job_id, None)
        self._write(jobs, self._next_id)

    def _write(self, jobs: dict[int, Job], next_id: int) -> None:
        body = {"version": 1, "next_id": next_id, "jobs": [asdict(j) for j in jobs.values()]}
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        tmp = self.folder / f".{JOBS_FILE}.tmp"
        try:
            replace_file(self.path, tmp, data)
        except OSError as err:
            raise StoreError(
                f"cannot write the scheduled jobs {self.path}: {err.strerror} — fix: free disk space or "
                "check the state directory's permissions"
            ) from err
        self._jobs = jobs
        self._next_id = next_id

"""The job queue's fixtures: the test Redis (TEST_REDIS_URL, emptied around each test) and the worker as a real
process (`python -m backend worker`, as deployed), which a test can start, kill with SIGKILL and start again."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis.asyncio as redis

from backend.config import Settings
from tests.app_process import ROOT, app_environment, redis_url_for_this_process

WORKER_START_SECONDS = 60
WORKER_STOP_SECONDS = 30
STARTED = "worker started"
# What the worker logs for each job it finished: "job send_pushes (send_pushes@2026-12-03T13:40:10Z) done: 0".
DONE = re.compile(r"job (\w+) \(([^)]+)\) done")


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """The test Redis, empty; the Redis tests all run in one test process (xdist group "redis")."""
    url = redis_url_for_this_process()
    if not url:
        pytest.skip("TEST_REDIS_URL is not set")
    client = redis.from_url(url)
    await client.flushdb()
    try:
        yield url
    finally:
        await client.flushdb()
        await client.aclose()


def worker_environment(settings: Settings, redis_url: str, **more: str) -> dict[str, str]:
    return app_environment(
        DATABASE_URL=settings.database_url,
        SECRET_KEY=settings.secret_key,
        MEDIA_DIR=str(settings.media_dir),
        REDIS_URL=redis_url,
        **more,
    )


@dataclass
class WorkerProcess:
    """`python -m backend worker` with `environment`; each start logs to a file of its own."""

    environment: dict[str, str]
    log_dir: Path
    name: str = "worker"
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    logs: list[Path] = field(default_factory=list)

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "the worker is still running"
        self.starts += 1
        path = self.log_dir / f"{self.name}-{self.starts}.log"
        self.logs.append(path)
        with path.open("wb") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "backend", "worker"],
                cwd=ROOT,
                env=self.environment,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_for(lambda log: STARTED in log, WORKER_START_SECONDS, what="to start")

    def log(self, start: int | None = None) -> str:
        """The log of the last start (or of `start`, counted from 1)."""
        path = self.logs[(start or self.starts) - 1]
        return path.read_text(errors="replace") if path.exists() else ""

    def all_logs(self) -> str:
        return "".join(path.read_text(errors="replace") for path in self.logs if path.exists())

    def wait_for(self, condition: Callable[[str], bool], seconds: float, *, what: str) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition(self.log()):
                return
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"the worker exited with {self.process.returncode}:\n{self.log()}")
            time.sleep(0.1)
        raise AssertionError(f"the worker did not {what} within {seconds} s:\n{self.log()}")

    def kill(self) -> None:
        """A crash: SIGKILL, no shutdown; its open transactions die with its connections."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=WORKER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Makes worker processes (not started) and stops whichever are still running at the end."""
    made: list[WorkerProcess] = []

    def make(environment: dict[str, str], name: str = "worker") -> WorkerProcess:
        worker = WorkerProcess(environment=environment, log_dir=tmp_path, name=name)
        made.append(worker)
        return worker

    try:
        yield make
    finally:
        for worker in made:
            worker.stop()


def finished_jobs(log: str) -> list[tuple[str, str]]:
    """(job, key) for each job the log says was done."""
    return DONE.findall(log)

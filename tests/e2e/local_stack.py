"""Running the local stack from a test as a user runs `make run`: its own process group, its own
data folder and free ports, stopped with Ctrl-C whatever the test left running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from deploy.embedded import free_port

REPO = Path(__file__).resolve().parents[2]
READY_DEADLINE = 90.0
STOP_DEADLINE = 30.0
# The reference partners answering and moving a booking on within a fraction of a second rather
# than make run's watchable 1 s and 2 s a step: a flow to completed bookings in a test's time.
QUICK_PARTNERS = {"REPLY_DELAY": "0.2", "STEP_DELAY": "0.3"}


@dataclass
class Runner:
    process: subprocess.Popen[bytes]
    log: Path
    launched: float

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def interrupt(self) -> None:
        """Ctrl-C as a terminal sends it: to the runner's whole foreground process group."""
        os.killpg(self.process.pid, signal.SIGINT)


class Stacks:
    """Starts runners on one data folder; whatever a failed test leaves running is stopped."""

    def __init__(self, tmp_path: Path, env: Mapping[str, str] | None = None) -> None:
        self.tmp_path = tmp_path
        self.data_dir = tmp_path / "stack"
        self.env = {**_stack_env(), **(env or {})}
        self.runners: list[Runner] = []

    def command(self) -> list[str]:
        return [sys.executable, "-m", "deploy.stack", "run", "--data-dir", str(self.data_dir)]

    def start(self) -> Runner:
        log = self.tmp_path / f"run-{len(self.runners)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                self.command(),
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, as a shell gives a job
            )
        runner = Runner(process, log, time.monotonic())
        self.runners.append(runner)
        return runner

    def wait_ready(self, runner: Runner) -> tuple[dict[str, Any], float]:
        """stack.json once the runner writes it, and the seconds from launch until then."""
        manifest = self.data_dir / "stack.json"
        deadline = runner.launched + READY_DEADLINE
        while not manifest.exists():
            if runner.process.poll() is not None:
                pytest.fail(
                    f"the stack exited with {runner.process.returncode}:\n{runner.output()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"no stack.json after {READY_DEADLINE:.0f}s:\n{runner.output()}")
            time.sleep(0.05)
        elapsed = time.monotonic() - runner.launched
        return json.loads(manifest.read_text()), elapsed

    def cleanup(self) -> None:
        for runner in self.runners:
            if runner.process.poll() is None:
                runner.interrupt()
                try:
                    runner.process.wait(STOP_DEADLINE)
                except subprocess.TimeoutExpired:
                    os.killpg(runner.process.pid, signal.SIGKILL)
                    runner.process.wait()


def _stack_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "NATS_URL"}}
    names = [
        "CONTENT_PORT",
        "INQUIRIES_PORT",
        "LOGISTICS_PORT",
        "NOTIFICATIONS_PORT",
        "SUPPORT_PORT",
    ]
    names += ["STACK_POSTGRES_PORT", "STACK_NATS_PORT", "SITE_PORT", "CONSOLE_PORT"]
    ports: set[int] = set()
    while len(ports) < len(names):
        ports.add(free_port())
    env.update(zip(names, map(str, sorted(ports)), strict=True))
    return env

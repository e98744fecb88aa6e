"""The local stack as a user runs it: a cold start, staff tokens that work, one runner per data
folder, Ctrl-C leaving no process behind, and a warm start that keeps its data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from deploy.embedded import free_port

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SERVICES = {"content", "inquiries", "logistics"}
ROLES = {"admin", "editor", "coordinator"}
READY_DEADLINE = 90.0
STOP_DEADLINE = 30.0


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

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.data_dir = tmp_path / "stack"
        self.env = _stack_env()
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


@pytest.fixture
def stacks(tmp_path: Path) -> Iterator[Stacks]:
    stacks = Stacks(tmp_path)
    yield stacks
    stacks.cleanup()


def _stack_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "NATS_URL"}}
    names = ["CONTENT_PORT", "INQUIRIES_PORT", "LOGISTICS_PORT"]
    names += ["STACK_POSTGRES_PORT", "STACK_NATS_PORT"]
    ports: set[int] = set()
    while len(ports) < len(names):
        ports.add(free_port())
    env.update(zip(names, map(str, sorted(ports)), strict=True))
    return env


def test_the_local_stack_starts_serves_stops_cleanly_and_keeps_its_data(stacks: Stacks) -> None:
    cold = stacks.start()
    manifest, cold_seconds = stacks.wait_ready(cold)
    _assert_manifest(manifest, cold)
    _assert_services_answer(manifest)
    _assert_second_runner_refused(stacks)
    _stop_and_assert_nothing_left(cold, stacks.data_dir)

    warm = stacks.start()
    warm_manifest, warm_seconds = stacks.wait_ready(warm)
    assert warm_manifest["credentials"] == manifest["credentials"]
    _assert_services_answer(warm_manifest)
    _stop_and_assert_nothing_left(warm, stacks.data_dir)

    print(
        f"\nlocal stack time to ready (launch to stack.json): "
        f"cold {cold_seconds:.1f}s, warm {warm_seconds:.1f}s"
    )


def _assert_manifest(manifest: dict[str, Any], runner: Runner) -> None:
    assert set(manifest) == {
        "services",
        "database_url",
        "nats_url",
        "credentials",
        "pid",
        "started_at",
    }
    assert set(manifest["services"]) == SERVICES
    assert manifest["pid"] == runner.process.pid
    staff = manifest["credentials"]["staff"]
    assert set(staff) == ROLES
    assert len(set(staff.values())) == len(ROLES)
    assert set(manifest["credentials"]["api_keys"]) == {"local-site"}


def _assert_services_answer(manifest: dict[str, Any]) -> None:
    staff = manifest["credentials"]["staff"]
    for url in manifest["services"].values():
        assert httpx.get(f"{url}/health/ready").status_code == 200
        letters = f"{url}/admin/dead-letters"
        as_admin = httpx.get(letters, headers={"Authorization": f"Bearer {staff['admin']}"})
        as_editor = httpx.get(letters, headers={"Authorization": f"Bearer {staff['editor']}"})
        assert as_admin.status_code == 200, as_admin.text
        assert as_editor.status_code == 403, as_editor.text
    # The seed content is published and served, localised, as a third-party site reads it.
    page = httpx.get(
        f"{manifest['services']['content']}/v1/conditions/mitral-valve-insufficiency",
        headers={"Accept-Language": "de-DE,de;q=0.9"},
    )
    assert page.status_code == 200, page.text
    assert page.json()["title"] == "Mitralklappeninsuffizienz"
    assert page.headers["content-language"] == "de"
    # A local site's page reads with its API key, within its own limit, from its dev origin.
    site = httpx.get(
        f"{manifest['services']['content']}/v1/conditions",
        headers={
            "X-API-Key": manifest["credentials"]["api_keys"]["local-site"],
            "Origin": "http://localhost:3000",
        },
    )
    assert site.status_code == 200, site.text
    assert site.headers["ratelimit-limit"] == "600"
    assert site.headers["access-control-allow-origin"] == "http://localhost:3000"


def _assert_second_runner_refused(stacks: Stacks) -> None:
    started = time.monotonic()
    second = subprocess.run(
        stacks.command(),
        check=False,
        cwd=REPO,
        env=stacks.env,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert second.returncode != 0
    assert "another stack is already running" in second.stdout + second.stderr
    assert time.monotonic() - started < 10


def _stop_and_assert_nothing_left(runner: Runner, data_dir: Path) -> None:
    started = _descendants(runner)
    runner.interrupt()
    try:
        code = runner.process.wait(STOP_DEADLINE)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the stack did not stop within {STOP_DEADLINE:.0f}s:\n{runner.output()}")
    assert code == 0, runner.output()
    _, alive = psutil.wait_procs(started, timeout=5)
    assert not alive, f"left running: {[p.pid for p in alive]}\n{runner.output()}"
    assert not (data_dir / "stack.json").exists()
    # Services stop before the servers they use, so a clean stop prints no error.
    assert "Traceback" not in runner.output(), runner.output()


def _descendants(runner: Runner) -> list[psutil.Process]:
    processes = psutil.Process(runner.process.pid).children(recursive=True)
    commands = " ".join(" ".join(_cmdline(p)) for p in processes)
    # Guards the leftover check against passing because it looked at nothing.
    for part in ("services.content", "services.inquiries", "services.logistics", "nats-server"):
        assert part in commands
    assert "postgres" in commands
    return processes


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.NoSuchProcess:
        return []

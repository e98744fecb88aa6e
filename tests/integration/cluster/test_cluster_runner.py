"""`make cluster` as a user runs it: three nodes on the announced ports, streams declared at three
replicas by the local stack's provisioning, one runner per data folder, and Ctrl-C leaving no
process behind."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from nats.js.api import StreamInfo

from contracts.registry import STREAMS
from deploy.embedded import free_port, port_is_free
from deploy.stack import infra
from services.runtime.messaging.bus import Bus

pytestmark = pytest.mark.cluster

REPO = Path(__file__).resolve().parents[3]
READY_DEADLINE = 60.0


def three_free_ports() -> int:
    while True:
        first = free_port()
        if first < 65533 and all(port_is_free(first + i) for i in (1, 2)):
            return first


def start_runner(data_dir: Path, first_port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "deploy.cluster", "run", "--data-dir", str(data_dir)],
            cwd=REPO,
            env={**os.environ, "CLUSTER_NATS_PORT": str(first_port)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a shell gives a job
        )


def announced_url(runner: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + READY_DEADLINE
    while True:
        for line in log.read_text().splitlines():
            if line.startswith("NATS_URL="):
                return line.removeprefix("NATS_URL=")
        if runner.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"no NATS_URL announced (exit {runner.returncode}):\n{log.read_text()}")
        time.sleep(0.05)


async def declared_streams(url: str) -> StreamInfo:
    """Declare the streams as the local stack does at NATS_STREAM_REPLICAS=3; the first's info."""
    await infra.provision_streams(url, "runner", 3)
    bus = await Bus.connect(url, name="test", namespace="runner")
    try:
        return await bus.js.stream_info(bus.stream(STREAMS[0].name))
    finally:
        await bus.close()


def test_the_runner_serves_three_replicas_and_ctrl_c_leaves_no_process(tmp_path: Path) -> None:
    first = three_free_ports()
    runner = start_runner(tmp_path / "cluster", first, tmp_path / "run.log")
    try:
        url = announced_url(runner, tmp_path / "run.log")
        assert url == ",".join(f"nats://127.0.0.1:{first + i}" for i in range(3))
        nodes = psutil.Process(runner.pid).children(recursive=True)
        assert [p.name() for p in nodes] == ["nats-server"] * 3

        info = asyncio.run(declared_streams(url))
        assert info.config.num_replicas == 3
        assert info.cluster is not None
        assert len(info.cluster.replicas or []) == 2

        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "deploy.cluster",
                "run",
                "--data-dir",
                str(tmp_path / "cluster"),
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert second.returncode == 1
        assert (
            f"a cluster already runs on {tmp_path / 'cluster'} (pid {runner.pid})" in second.stderr
        )

        os.killpg(runner.pid, signal.SIGINT)  # Ctrl-C, as a terminal sends it to the job
        assert runner.wait(30) == 0
        _, alive = psutil.wait_procs(nodes, timeout=5)
        assert alive == []
        assert (tmp_path / "run.log").read_text().splitlines()[-1] == "stopped"
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.wait()

"""The services and the reference partners as child processes: started in their own session (a
terminal's Ctrl-C reaches only the runner, which stops them in order), their output relayed line
by line under their name."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Mapping, Sequence

import httpx

from deploy.embedded import die_with_parent
from deploy.stack.console import Console
from deploy.stack.errors import StackError
from deploy.stack.files import REPO

_TAIL_LINES = 30
_LINE_LIMIT = 1 << 20  # a traceback rendered as one JSON line can exceed asyncio's 64 KiB


class ChildProcess:
    """A process of the stack (a service or a reference partner), relayed under its name."""

    def __init__(
        self,
        name: str,
        module: str,
        env: Mapping[str, str],
        process: asyncio.subprocess.Process,
        console: Console,
    ) -> None:
        self.name = name
        self.module = module
        self.env = dict(env)
        self.process = process
        self.console = console
        self.recent: deque[str] = deque(maxlen=_TAIL_LINES)
        self.relay = self._follow(process)

    def _follow(self, process: asyncio.subprocess.Process) -> asyncio.Task[None]:
        if process.stdout is None:
            raise ValueError("a child's output is relayed: start it with stdout=PIPE")
        return asyncio.create_task(self._relay(process.stdout), name=f"output:{self.name}")

    @classmethod
    async def start(
        cls, name: str, module: str, env: Mapping[str, str], console: Console
    ) -> ChildProcess:
        return cls(name, module, env, await _spawn(module, env), console)

    async def respawn(self) -> None:
        """Start the same module with the same environment again, after it stopped or was
        killed (a crashed container restarted by its orchestrator)."""
        if not self.exited():
            raise StackError(f"{self.name} is still running; stop or kill it first")
        self.relay.cancel()
        self.process = await _spawn(self.module, self.env)
        self.relay = self._follow(self.process)

    async def kill(self) -> None:
        """SIGKILL the process and everything in its session, as a crash takes them all."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        await self.process.wait()
        await asyncio.wait([self.relay], timeout=2.0)

    def exited(self) -> bool:
        return self.process.returncode is not None

    async def failure(self, what: str) -> StackError:
        """An error naming the process, with its last output (it may have scrolled away)."""
        # The last lines may still be in the pipe when the process has just exited.
        await asyncio.wait([self.relay], timeout=2.0)
        tail = "\n".join(f"  {line}" for line in self.recent) or "  (no output)"
        return StackError(f"{self.name} {what}; its last output:\n{tail}")

    def describe_exit(self) -> str:
        code = self.process.returncode
        if code is not None and code < 0:
            return f"killed by {signal.Signals(-code).name}"
        return f"exit status {code}"

    async def stop(self, timeout: float = 10.0) -> None:
        if not self.exited():
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                self.console.say(f"{self.name} did not stop within {timeout:.0f}s, killing it")
        # Granian's workers outlive a server process that was killed or crashed, keeping the port;
        # they are in its session, so sweep that.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        await self.process.wait()
        await asyncio.wait([self.relay], timeout=2.0)
        self.relay.cancel()

    async def _relay(self, output: asyncio.StreamReader) -> None:
        async for raw in output:
            line = raw.decode(errors="replace").rstrip()
            self.recent.append(line)
            self.console.line(self.name, line)


class ServiceProcess(ChildProcess):
    """A service: a child process that serves HTTP on `port`."""

    def __init__(
        self,
        name: str,
        port: int,
        env: Mapping[str, str],
        process: asyncio.subprocess.Process,
        console: Console,
    ) -> None:
        super().__init__(name, f"services.{name}", env, process, console)
        self.port = port

    @classmethod
    async def serve(
        cls, name: str, port: int, env: Mapping[str, str], console: Console
    ) -> ServiceProcess:
        """`name` is the service (its module under services/); PORT is set to `port`."""
        own = {**env, "PORT": str(port)}
        process = await _spawn(f"services.{name}", own)
        return cls(name, port, own, process, console)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metrics_url(self) -> str | None:
        """Its metrics page, on the listener apart from the API (METRICS_PORT, by default the
        API port + 1000); None when the listener is off."""
        port = int(self.env.get("METRICS_PORT") or self.port + 1000)
        return f"http://127.0.0.1:{port}/metrics" if port else None

    async def is_ready(self, client: httpx.AsyncClient) -> bool:
        try:
            response = await client.get(f"{self.url}/health/ready", timeout=2.0)
        except httpx.TransportError:
            return False
        return response.status_code == 200


async def _spawn(module: str, env: Mapping[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        cwd=REPO,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        limit=_LINE_LIMIT,
        start_new_session=True,
        preexec_fn=die_with_parent,  # safe beside threads: it only calls prctl
    )


async def wait_until_ready(services: Sequence[ServiceProcess], timeout: float = 60.0) -> None:
    """Poll every service's readiness until all answer 200; fail as soon as one exits."""
    deadline = time.monotonic() + timeout
    pending = list(services)
    async with httpx.AsyncClient() as client:
        while pending:
            for service in services:
                if service.exited():
                    raise await service.failure(f"failed to start ({service.describe_exit()})")
            pending = [s for s in pending if not await s.is_ready(client)]
            if pending and time.monotonic() > deadline:
                raise await pending[0].failure(f"was not ready after {timeout:.0f}s")
            if pending:
                await asyncio.sleep(0.1)

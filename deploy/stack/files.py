"""Where a stack keeps its state, and the lock that lets only one runner own a data folder."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPO / ".stack"


@dataclass(frozen=True)
class StackPaths:
    root: Path

    @property
    def lock(self) -> Path:
        return self.root / "stack.lock"

    @property
    def manifest(self) -> Path:
        """stack.json: what a running stack offers (URLs, credentials), for people and tools."""
        return self.root / "stack.json"

    @property
    def secrets(self) -> Path:
        """Plaintext credentials the stack issued; the database only keeps their hashes."""
        return self.root / "secrets.json"

    @property
    def nats_config(self) -> Path:
        """The embedded NATS server's authorization config, rendered on every start."""
        return self.root / "nats.conf"

    @property
    def nats_pid(self) -> Path:
        return self.root / "nats.pid"

    @property
    def postgres(self) -> Path:
        return self.root / "postgres"

    @property
    def nats(self) -> Path:
        return self.root / "nats"


def write_private_json(path: Path, data: dict[str, Any]) -> None:
    """Replace `path` atomically, readable by its owner only: it holds credentials, and a reader
    polling for it must never see half a file."""
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(fd, 0o600)  # the file may have been left behind with another mode
        json.dump(data, handle, indent=2)
        handle.write("\n")
    partial.replace(path)


def read_json(path: Path) -> dict[str, Any] | None:
    """The object in `path`; None when missing or not a JSON object (say, edited by hand)."""
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class AlreadyRunning(Exception):
    def __init__(self, pid: str) -> None:
        super().__init__(f"another stack is already running (pid {pid})")
        self.pid = pid


@contextmanager
def hold_lock(path: Path) -> Iterator[None]:
    """Own the data folder until the block ends; the kernel drops the lock if we die, so a
    killed runner never leaves a stale lock behind. Raises AlreadyRunning at once if held."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(_read_pid(fd)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def lock_holder(path: Path) -> str | None:
    """The pid of the runner holding the lock, or None when no stack runs."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_pid(fd)
    else:
        return None
    finally:
        os.close(fd)


def _read_pid(fd: int) -> str:
    # The holder writes its pid just after locking; a reader in between sees an empty file.
    return os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"

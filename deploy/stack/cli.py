"""python -m deploy.stack run|reset|status [--data-dir DIR]"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from deploy.stack.console import Console
from deploy.stack.errors import StackError
from deploy.stack.files import (
    DEFAULT_DATA_DIR,
    AlreadyRunning,
    StackPaths,
    hold_lock,
    lock_holder,
    read_json,
)
from deploy.stack.runner import SOURCES, run_stack
from services.runtime.core.log import configure_logging

DESCRIPTION = """\
run     start PostgreSQL, NATS, the services and one reference partner per kind in the
        foreground; Ctrl-C stops them all.
        DATABASE_URL / NATS_URL use existing servers instead of embedded ones;
        STACK_POSTGRES_PORT, STACK_NATS_PORT, CONTENT_PORT, INQUIRIES_PORT, LOGISTICS_PORT,
        SITE_PORT (the example site, 3000) choose ports. When ready, DATA_DIR/stack.json lists
        URLs and staff tokens.
reset   delete the data folder's contents (databases, streams, tokens); refused while running.
status  print stack.json of the running stack, or say that none runs."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.stack",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=list(COMMANDS))
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help=f"where the stack keeps its data (default: {DEFAULT_DATA_DIR})",
    )
    args = parser.parse_args(argv)
    return COMMANDS[args.command](StackPaths(args.data_dir.resolve()))


def run(paths: StackPaths) -> int:
    console = Console(SOURCES)
    # The runner says its own progress and reports failures as errors; what the runtime code it
    # calls logs on the way (migrations, NATS connection events) would only repeat or mislead.
    configure_logging(
        service="stack", level="error", fmt="console" if console.is_terminal else "json"
    )
    try:
        with hold_lock(paths.lock):
            return asyncio.run(run_stack(paths, console, os.environ))
    except AlreadyRunning as exc:
        console.error(f"{exc}; stop it with Ctrl-C or `kill {exc.pid}`")
    except StackError as exc:
        console.error(str(exc))
    return 1


def reset(paths: StackPaths) -> int:
    # Only a folder a stack has used: a mistyped --data-dir must not empty a home directory.
    if not paths.lock.exists():
        print(f"nothing to reset: {paths.root} is not a stack data folder")
        return 0
    try:
        with hold_lock(paths.lock):
            for entry in sorted(p for p in paths.root.iterdir() if p != paths.lock):
                print(f"deleting {entry}")
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
    except AlreadyRunning as exc:
        print(f"a stack is running (pid {exc.pid}); stop it before resetting", file=sys.stderr)
        return 1
    print(f"reset {paths.root}")
    return 0


def status(paths: StackPaths) -> int:
    pid = lock_holder(paths.lock)
    if pid is None:
        print("no stack running")
        return 0
    manifest = read_json(paths.manifest)
    if manifest is None:
        print(f"a stack is starting or stopping (pid {pid}); not ready")
    else:
        print(json.dumps(manifest, indent=2))
    return 0


COMMANDS: dict[str, Callable[[StackPaths], int]] = {"run": run, "reset": reset, "status": status}

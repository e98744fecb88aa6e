"""python -m deploy.stack.with_env [--data-dir DIR] COMMAND...: run an operator's command (say,
the retention purge) against the running local stack, with the environment its services got:
the stack's DATABASE_URL and NATS_URL, and the service secrets from secrets.json."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from deploy.stack.files import DEFAULT_DATA_DIR, StackPaths, lock_holder, read_json
from deploy.stack.seed import SERVICE_ENV


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.stack.with_env", description=__doc__)
    parser.add_argument("--data-dir", metavar="DIR", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if not args.command:
        parser.error("name the command to run")
    paths = StackPaths(args.data_dir.resolve())
    manifest = read_json(paths.manifest) if lock_holder(paths.lock) else None
    if manifest is None:
        print("no local stack is running: start it with `make run`", file=sys.stderr)
        return 1
    service_env = (read_json(paths.secrets) or {}).get(SERVICE_ENV, {})
    # As the runner starts the services: the caller's environment wins over stored secrets,
    # the stack's own servers win over both.
    env = {
        **service_env,
        **os.environ,
        "DATABASE_URL": manifest["database_url"],
        "NATS_URL": manifest["nats_url"],
    }
    return subprocess.run(args.command, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())

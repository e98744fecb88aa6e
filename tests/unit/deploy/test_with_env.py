"""`make retention` runs its command with the running local stack's environment."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from deploy.stack.files import StackPaths, hold_lock, write_private_json
from deploy.stack.with_env import main

SHOW_ENV = "import os; print(os.environ['DATABASE_URL'], os.environ['INQUIRIES_ENCRYPTION_KEYS'])"


def test_without_a_running_stack_it_says_so_and_runs_nothing(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    code = main(["--data-dir", str(tmp_path), sys.executable, "-c", "print('ran')"])

    out, err = capfd.readouterr()
    assert code == 1
    assert "no local stack is running" in err
    assert "ran" not in out


def test_the_command_gets_the_stack_servers_and_the_service_secrets(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://somewhere-else/db")
    paths = StackPaths(tmp_path)
    write_private_json(
        paths.manifest,
        {
            "database_url": "postgresql://postgres@127.0.0.1:15432/carebridge",
            "nats_url": "nats://x:1",
        },
    )
    write_private_json(paths.secrets, {"service_env": {"INQUIRIES_ENCRYPTION_KEYS": "local1:k"}})

    with hold_lock(paths.lock):
        code = main(["--data-dir", str(tmp_path), sys.executable, "-c", SHOW_ENV])

    out, _ = capfd.readouterr()
    assert code == 0
    assert out.split() == ["postgresql://postgres@127.0.0.1:15432/carebridge", "local1:k"]

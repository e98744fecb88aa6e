"""Migrations are append-only: once committed, a migration file is never edited (the runner
also refuses an edited file against a database that applied it; this catches it before)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
MIGRATIONS = ["services/*/migrations/*.sql", "services/runtime/*migrations/*.sql"]


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.mark.skipif(
    shutil.which("git") is None or not (REPO / ".git").exists(), reason="needs the git history"
)
def test_no_committed_migration_was_ever_modified() -> None:
    modified_in_history = git("log", "--format=%h %s", "--diff-filter=MD", "--", *MIGRATIONS)
    modified_now = git("diff", "HEAD", "--name-only", "--diff-filter=MD", "--", *MIGRATIONS)

    assert modified_in_history == "", f"commits that edited migrations:\n{modified_in_history}"
    assert modified_now == "", f"edit a new migration instead of:\n{modified_now}"

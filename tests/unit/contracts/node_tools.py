"""The npm tools the contract tests run, installed by `npm ci` in clients/typescript (.ci/run
does it): a test skips, saying why, only when node itself is absent."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CLIENT = ROOT / "clients" / "typescript"
MODULES = CLIENT / "node_modules"


def require_node_tools() -> Path:
    """clients/typescript/node_modules, or a skip when node is not installed (a failure when
    node is there but the packages were never installed: CI must install them)."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the TypeScript client and AsyncAPI checks need it")
    if not (MODULES / ".bin" / "tsc").exists():
        pytest.fail("the npm tools are missing: run `npm ci` in clients/typescript")
    return MODULES

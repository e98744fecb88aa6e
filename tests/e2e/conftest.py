from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.local_stack import Stacks


@pytest.fixture
def stacks(tmp_path: Path) -> Iterator[Stacks]:
    stacks = Stacks(tmp_path)
    yield stacks
    stacks.cleanup()

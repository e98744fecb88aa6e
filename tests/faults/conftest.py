"""Reports of the fault-injection suite, shown in the terminal summary whatever the capture."""

from __future__ import annotations

import pytest

REPORTS = pytest.StashKey[list[str]]()


@pytest.fixture
def report(request: pytest.FixtureRequest) -> list[str]:
    """Append text here; it is printed after the run (and kept by the test in a file)."""
    return request.config.stash.setdefault(REPORTS, [])


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    reports = config.stash.get(REPORTS, [])
    if reports:
        terminalreporter.section("fault injection")
        for text in reports:
            terminalreporter.write_line(text)

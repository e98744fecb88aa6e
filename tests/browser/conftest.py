"""Tests in a real browser: Playwright's client driving Debian's `chromium`, launched by its
path (`playwright install` downloads a browser build of its own, which CI cannot), against the
whole local stack as `make run` starts it, example site included. One stack for the package's
tests (tests/support/groups.py runs them on the whole-stack suites' worker, one suite after
another).

Each test's steps leave screenshots in its own temp folder (under pytest's basetemp), named in
order, so a failure shows what the page looked like."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from tests.e2e.local_stack import QUICK_PARTNERS, Stacks

# Debian's headless shell first: the same Chromium without the browser's UI layers, it spends
# 76 s of CPU where the full browser in headless mode spends 139 s over tests/browser, and the
# suite takes 115 s instead of 139 s (2 cores, 2026-12-06). The full browser serves where the
# shell is not installed; CHROMIUM names another one.
BROWSERS = (Path("/usr/bin/chromium-headless-shell"), Path("/usr/bin/chromium"))
CHROMIUM = (
    Path(os.environ["CHROMIUM"])
    if os.environ.get("CHROMIUM")
    else next((path for path in BROWSERS if path.exists()), BROWSERS[-1])
)
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
# Where a step waits for the page (the stack's first reads fill its caches).
STEP_TIMEOUT_MS = 15_000
expect.set_options(timeout=STEP_TIMEOUT_MS)


def _missing(what: str, fix: str) -> None:
    """CI has everything (.ci/run installs it): missing there is a failure; elsewhere a skip
    that says what to install."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing under CI; .ci/run should have installed it ({fix})")
    pytest.skip(f"{what} is missing: {fix}")


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists() and shutil.which(str(CHROMIUM)) is None:
        _missing(f"Debian's chromium ({CHROMIUM})", "apt-get install -y chromium-headless-shell")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def stacks(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Stacks]:
    """The runner of the browser tests' stack and its data folder. Stopped after the package's
    last test, so it never runs beside another suite's stack on the same worker. After the
    browser: without one, nothing is started only to be skipped."""
    del browser
    stacks = Stacks(tmp_path_factory.mktemp("browser-stack"), env=QUICK_PARTNERS)
    try:
        yield stacks
    finally:
        stacks.cleanup()


@pytest.fixture(scope="package")
def site_stack(stacks: Stacks) -> dict[str, Any]:
    """The local stack with its example site, shared by the browser tests: stack.json."""
    manifest, _ = stacks.wait_ready(stacks.start())
    return manifest


@pytest.fixture(scope="package")
def stack_mail(stacks: Stacks, site_stack: dict[str, Any]) -> Path:
    """The folder where the stack's SMTP catcher leaves each message (.eml): stack.json's
    `mail.dir`, in this stack's data folder."""
    return stacks.data_dir / Path(site_stack["mail"]["dir"]).name


class Steps:
    """A page and the screenshots of its steps: `shot("name")` after each."""

    def __init__(self, page: Page, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.taken: list[Path] = []

    def shot(self, name: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


@pytest.fixture
def steps(browser: Browser, tmp_path: Path) -> Iterator[Steps]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    folder = tmp_path / "screenshots"
    folder.mkdir()
    yield Steps(page, folder)
    context.close()
    assert not errors, f"the page raised: {errors}"


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        _missing("axe-core (tests/browser/node_modules)", "cd tests/browser && npm ci")
    return AXE.read_text()

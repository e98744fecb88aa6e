"""Where the heavy tests run under pytest-xdist (`make test`: `--dist loadgroup`). The suites that
start a whole local stack run one after another on a worker of their own: the e2e and browser
suites on one (never two of their stacks at once), the fault suite on another. The fault suite
had shared that worker too, but it and the browser suite were each three to four minutes, the
longest stretch of the run (with both on one worker and 3 workers 9 min 16 s, apart with 4
workers 8 min 0 s, same machine, 2026-12-06); its deadlines held beside them. Four workers
became safe once each worker picked ports from a slice of its own (deploy/embedded.free_port).
The cluster tests share one worker and with it the one 3-node cluster their session fixture
starts; the API fuzz tests of one service share a worker and the service's process. The rest
spread freely, one test at a time.

The groups are told by folder, in the controller, rather than by `xdist_group` marks: with
pytest 9.2 xdist's loadgroup no longer sees the marks (it renames node ids, which pytest now
ignores; pytest-xdist issue 1386), and the folders are where these suites live anyway."""

from __future__ import annotations

import pytest
from xdist.scheduler import LoadGroupScheduling

GROUPS = {
    "tests/e2e/": "whole-stack",
    "tests/faults/": "faults",
    "tests/browser/": "whole-stack",
    "tests/integration/cluster/": "nats-cluster",
}

# Its tests share one process per service (a module-scoped fixture): one worker each.
FUZZ = "tests/integration/test_api_fuzz.py"


class FolderGroups(LoadGroupScheduling):
    """xdist's loadgroup scheduling, with the groups above added to those marked."""

    def _split_scope(self, nodeid: str) -> str:
        for folder, group in GROUPS.items():
            if nodeid.startswith(folder):
                return group
        if nodeid.startswith(f"{FUZZ}::") and nodeid.endswith("]"):
            return f"fuzz-{nodeid.rsplit('[', 1)[1][:-1]}"
        return super()._split_scope(nodeid)


@pytest.hookimpl(optionalhook=True, tryfirst=True)  # before xdist's own choice
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> FolderGroups | None:
    if config.getvalue("dist") != "loadgroup":
        return None
    return FolderGroups(config, log)  # type: ignore[arg-type]

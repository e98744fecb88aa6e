"""Where the heavy tests run under pytest-xdist (`--dist loadgroup`): the tests a marker says
start a whole local stack (e2e, faults) run one after another on one worker, so two stacks never
compete for the cores and the fault suite's deadlines hold; the cluster tests share one worker
and with it the one 3-node cluster their session fixture starts. The rest spread freely."""

from __future__ import annotations

import pytest

GROUPS = {"e2e": "whole-stack", "faults": "whole-stack", "cluster": "nats-cluster"}


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups off the items
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for marker, group in GROUPS.items():
            if item.get_closest_marker(marker) is not None:
                item.add_marker(pytest.mark.xdist_group(group))
                break

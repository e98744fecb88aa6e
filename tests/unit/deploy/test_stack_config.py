"""The local stack reads NATS_STREAM_REPLICAS once, before starting anything."""

from __future__ import annotations

import pytest

from deploy.stack.errors import StackError
from deploy.stack.infra import StackConfig
from deploy.stack.runner import DEFINITIONS


def test_stream_replicas_default_to_one_and_follow_the_environment() -> None:
    assert StackConfig.from_env({}, DEFINITIONS).nats_stream_replicas == 1
    assert (
        StackConfig.from_env({"NATS_STREAM_REPLICAS": "3"}, DEFINITIONS).nats_stream_replicas == 3
    )


@pytest.mark.parametrize("value", ["0", "6", "three", "-1"])
def test_a_bad_replica_count_names_the_variable(value: str) -> None:
    with pytest.raises(StackError) as error:
        StackConfig.from_env({"NATS_STREAM_REPLICAS": value}, DEFINITIONS)

    assert str(error.value) == (f"NATS_STREAM_REPLICAS must be a number from 1 to 5, got {value!r}")


def test_the_ports_it_names_hold_every_listener_the_stack_will_start() -> None:
    env = {
        "CONTENT_PORT": "20100",
        "SUPPORT_PORT": "20200",
        "SITE_PORT": "20300",
        "CONSOLE_PORT": "20400",
        "STACK_POSTGRES_PORT": "20500",
        "STACK_NATS_PORT": "20600",
    }
    named = StackConfig.from_env(env, DEFINITIONS).named_ports()

    # The services' API ports and their metrics listeners (API port + 1000).
    assert {20100, 21100, 20200, 21200, 20300, 20400, 20500, 20600} <= named
    assert len(named) == 2 * len(DEFINITIONS) + 4

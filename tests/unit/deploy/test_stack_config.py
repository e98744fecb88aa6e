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

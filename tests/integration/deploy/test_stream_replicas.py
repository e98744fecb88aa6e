"""The local stack declares its streams at NATS_STREAM_REPLICAS; a single server refuses more than
one replica, and the stack says so instead of failing with a traceback."""

from __future__ import annotations

import pytest

from deploy.stack import infra
from deploy.stack.errors import StackError


async def test_three_replicas_on_a_single_server_is_a_clear_error(
    nats_url: str, namespace: str
) -> None:
    with pytest.raises(StackError) as error:
        await infra.provision_streams(nats_url, namespace, 3)

    assert str(error.value) == (
        "declaring the streams at 3 replica(s) (NATS_STREAM_REPLICAS) failed: "
        "replicas > 1 not supported in non-clustered mode"
    )

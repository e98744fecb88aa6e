"""A 3-node NATS cluster for the session, beside the single server of tests/support/servers.py:
tests here kill its nodes, and each test finds all three running again."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from deploy.cluster import NatsCluster, NodePorts
from tests.support.servers import delete_streams


@pytest.fixture(scope="session")
def nats_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    cluster = NatsCluster(
        tmp_path_factory.mktemp("cluster"), [NodePorts.any_free() for _ in range(3)]
    )
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def cluster(nats_cluster: NatsCluster) -> Iterator[NatsCluster]:
    yield nats_cluster
    for node in nats_cluster.nodes:
        if not node.running():
            nats_cluster.restart(node.name)
    nats_cluster.wait_until_formed()


@pytest.fixture
async def cluster_namespace(cluster: NatsCluster) -> AsyncIterator[str]:
    """A subject/stream prefix of this test's own on the cluster; its streams go afterwards."""
    ns = f"c{uuid.uuid4().hex[:10]}"
    yield ns
    await delete_streams(cluster.urls, ns)

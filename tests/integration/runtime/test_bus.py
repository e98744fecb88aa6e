"""Stream provisioning and subject namespaces on a real JetStream."""

from __future__ import annotations

import msgspec
import pytest
from nats.js.api import DiscardPolicy, StorageType
from nats.js.errors import ServerError, ServiceUnavailableError

from contracts.registry import STREAMS, StreamSpec, stream_named
from services.runtime.bus import Bus


async def test_provisioning_is_idempotent_and_applies_changed_settings(bus: Bus) -> None:
    await bus.provision(STREAMS)
    changed = msgspec.structs.replace(STREAMS[0], duplicate_window_seconds=600.0)

    await bus.provision([changed])

    info = await bus.js.stream_info(bus.stream("CONTENT"))
    assert info.config.duplicate_window == 600.0
    assert info.config.subjects == [bus.subject("content.>")]
    names = [i.config.name for i in await bus.js.streams_info()]
    assert names.count(bus.stream("CONTENT")) == 1


async def test_namespaces_keep_streams_and_subjects_apart(bus: Bus, nats_url: str) -> None:
    other = await Bus.connect(nats_url, name="other", namespace=f"{bus.namespace}x")
    try:
        spec = StreamSpec(name="CONTENT", subjects=("content.>",), description="test")
        await bus.provision([spec])
        await other.provision([spec])

        await other.js.publish(other.subject("content.condition.published.v1"), b"{}")

        mine = await bus.js.stream_info(bus.stream("CONTENT"))
        theirs = await other.js.stream_info(other.stream("CONTENT"))
        assert (mine.state.messages, theirs.state.messages) == (0, 1)
    finally:
        await other.js.delete_stream(other.stream("CONTENT"))
        await other.close()


async def test_streams_are_provisioned_for_durability(bus: Bus) -> None:
    await bus.provision(STREAMS)

    for spec in STREAMS:
        config = (await bus.js.stream_info(bus.stream(spec.name))).config
        assert config.storage == StorageType.FILE
        assert config.discard == DiscardPolicy.NEW
        assert config.max_msg_size == spec.max_message_bytes
        assert config.deny_purge
        assert config.duplicate_window == spec.duplicate_window_seconds
    # Only the stream without personal data refuses single deletes: erasure may need them.
    denied = {spec.name for spec in STREAMS if spec.deny_delete}
    assert denied == {"CONTENT"}
    with pytest.raises(ServerError, match="purge not permitted"):
        await bus.js.purge_stream(bus.stream("PARTNERS"))


async def test_a_full_stream_refuses_new_messages_and_keeps_the_old_ones(
    nats_url: str, namespace: str
) -> None:
    bounded = await Bus.connect(nats_url, name="bounded", namespace=namespace, max_bytes=4096)
    try:
        await bounded.provision([stream_named("CONTENT")])
        subject = bounded.subject("content.condition.published.v1")
        stored = 0
        while (await bounded.js.stream_info(bounded.stream("CONTENT"))).state.bytes < 3584:
            await bounded.js.publish(subject, b"x" * 512)
            stored += 1

        with pytest.raises(ServiceUnavailableError, match="maximum bytes exceeded"):
            await bounded.js.publish(subject, b"x" * 512)

        info = await bounded.js.stream_info(bounded.stream("CONTENT"))
        assert (info.state.messages, info.state.first_seq) == (stored, 1)
    finally:
        await bounded.close()

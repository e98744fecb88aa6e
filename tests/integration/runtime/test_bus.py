"""Stream provisioning and subject namespaces on a real JetStream."""

from __future__ import annotations

import msgspec

from contracts.registry import STREAMS, StreamSpec
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

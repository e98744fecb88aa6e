"""Stream provisioning, subject namespaces and pulling from a durable on a real JetStream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec
import pytest
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, StorageType
from nats.js.errors import ServerError, ServiceUnavailableError

from contracts.registry import STREAMS, StreamSpec, stream_named
from services.runtime.messaging import bus as bus_module
from services.runtime.messaging.bus import Bus, fetch_ready

SUBJECT_PREFIX = "content.condition"


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


@asynccontextmanager
async def pulling(bus: Bus) -> AsyncIterator[tuple[JetStreamContext.PullSubscription, list[int]]]:
    """A durable's pull subscription on CONTENT, and the batch size of every pull request it
    sends, as the server receives them."""
    await bus.provision([stream_named("CONTENT")])
    stream = bus.stream("CONTENT")
    psub = await bus.js.pull_subscribe(
        bus.subject(SUBJECT_PREFIX + ".>"), durable="reader", stream=stream
    )
    batches: list[int] = []

    async def record(msg: Msg) -> None:
        batches.append(msgspec.json.decode(msg.data)["batch"])

    spy = await bus.nc.subscribe(f"$JS.API.CONSUMER.MSG.NEXT.{stream}.reader", cb=record)
    try:
        yield psub, batches
    finally:
        await spy.unsubscribe()
        await psub.unsubscribe()


async def test_a_lone_message_is_taken_with_one_pull_and_a_backlog_in_one_batch(
    bus: Bus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pull for more messages than wait lingers until it expires, so asking for more after a
    lone message would hold that message back; fetch_ready asks only for what the first
    message says is waiting."""
    # Time enough for the second pull's answer on a busy machine: a pull for messages that
    # are there returns as soon as they come, and a lone message makes no second pull.
    monkeypatch.setattr(bus_module, "_READY_WAIT", 5.0)
    subject = bus.subject(SUBJECT_PREFIX + ".published.v1")
    async with pulling(bus) as (psub, batches):
        await bus.js.publish(subject, b"lone")
        lone = await fetch_ready(psub, 256, timeout=1.0)
        await bus.nc.flush()
        assert [m.data for m in lone] == [b"lone"]
        assert batches == [1]

        batches.clear()
        for n in range(5):
            await bus.js.publish(subject, b"%d" % n)
        backlog = await fetch_ready(psub, 256, timeout=1.0)
        await bus.nc.flush()
        assert [m.data for m in backlog] == [b"0", b"1", b"2", b"3", b"4"]
        assert batches == [1, 4]

        # A batch smaller than the backlog takes no more than it asked for.
        for n in range(3):
            await bus.js.publish(subject, b"%d" % n)
        assert [m.data for m in await fetch_ready(psub, 2, timeout=1.0)] == [b"0", b"1"]
        assert [m.data for m in await fetch_ready(psub, 2, timeout=1.0)] == [b"2"]

        with pytest.raises(NatsTimeoutError):
            await fetch_ready(psub, 256, timeout=0.2)


async def test_behind_a_redelivered_message_the_rest_of_the_batch_is_asked_for(
    bus: Bus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redeliveries are not in a message's count of those waiting behind it: after a replica
    died or messages were refused, a consumer still takes its backlog in batches."""
    # The pull asks for more than wait, so it lasts this long: short, yet ample for an answer.
    monkeypatch.setattr(bus_module, "_READY_WAIT", 0.5)
    subject = bus.subject(SUBJECT_PREFIX + ".published.v1")
    async with pulling(bus) as (psub, batches):
        for n in range(3):
            await bus.js.publish(subject, b"%d" % n)
        for msg in await fetch_ready(psub, 256, timeout=1.0):
            await msg.nak()
        batches.clear()

        again = await fetch_ready(psub, 256, timeout=1.0)
        await bus.nc.flush()

        assert sorted(m.data for m in again) == [b"0", b"1", b"2"]
        assert all(m.metadata.num_delivered == 2 for m in again)
        assert batches == [1, 255]

"""A partner cannot have another partner's reply dropped by publishing its Nats-Msg-Id first
(issue 15, finding 8). JetStream deduplicates on that header alone, in one map per stream, and
partners choose it: with replies in PARTNERS, under the outbox's 15-minute window, the copied id
made the stream drop the victim's reply. Replies now have a stream of their own whose window is
the server's smallest (docs/decisions/0005-partner-replies-stream.md). Run on a server with the
accounts config `make run` renders: each partner in its own account, through its gateway."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import msgspec
import nats
import pytest
from nats.aio.client import Client as Nats

from contracts.envelope import NATS_MSG_ID, Metadata, event_type
from contracts.partners import OfferDeclined
from contracts.registry import PARTNER_REPLIES
from deploy.nats_auth import ADMIN, partner_inbox_prefix
from services.runtime.messaging.bus import Bus
from tests.integration.logistics.conftest import Client, dead_letters
from tests.support import eventually
from tests.support.nats_auth import Server

pytest_plugins = ["tests.support.nats_accounts"]

VICTIM, COPIER = "rhein-shuttle", "medilingua"
# nats-server refuses a duplicate window under 100 ms; the test waits past it.
PAST_THE_WINDOW = 0.3


@pytest.fixture
def namespace(accounts_namespace: str) -> str:
    return accounts_namespace


@pytest.fixture
def nats_url(accounts_nats: Server) -> str:
    """Logistics runs as its own NATS user, with the grants `make run` gives it."""
    return accounts_nats.url("logistics")


@pytest.fixture
async def bus(accounts_nats: Server, namespace: str) -> AsyncIterator[Bus]:
    admin = await Bus.connect(accounts_nats.url(ADMIN), name="test", namespace=namespace)
    yield admin
    await admin.close()


async def as_partner(server: Server, partner_id: str) -> Nats:
    return await nats.connect(
        server.url(partner_id),
        inbox_prefix=partner_inbox_prefix(partner_id),
        max_reconnect_attempts=0,
    )


async def reply_with_msg_id(nc: Nats, namespace: str, partner_id: str, msg_id: str) -> bool:
    """A decline of an offer the partner never had (logistics reads it and keeps it as a dead
    letter, which shows it was read), under `msg_id`. True when the stream stored it."""
    meta = Metadata(
        id=str(uuid.uuid4()),
        type=event_type(OfferDeclined),
        source=f"/partners/{partner_id}",
        time=datetime.now(UTC),
    )
    ack = await nc.jetstream().publish(
        f"{namespace}.{PARTNER_REPLIES.subject(partner_id=partner_id)}",
        msgspec.json.encode(OfferDeclined(offer_id=str(uuid.uuid4()), reason="other")),
        headers=meta.headers() | {NATS_MSG_ID: msg_id},
    )
    return not ack.duplicate


async def test_a_partner_reusing_another_partners_msg_id_does_not_suppress_its_reply(
    client: Client, accounts_nats: Server, namespace: str, bus: Bus, db: asyncpg.Connection
) -> None:
    copier = await as_partner(accounts_nats, COPIER)
    victim = await as_partner(accounts_nats, VICTIM)
    try:
        taken = f"{VICTIM}:{uuid.uuid4()}"
        assert await reply_with_msg_id(copier, namespace, COPIER, taken)
        # Past the stream's window (the server's smallest): the victim's own reply, its own id.
        await asyncio.sleep(PAST_THE_WINDOW)
        assert await reply_with_msg_id(victim, namespace, VICTIM, taken), "dropped as a duplicate"
    finally:
        await copier.close()
        await victim.close()

    stored = await bus.js.stream_info(bus.stream(PARTNER_REPLIES.stream), subjects_filter=">")
    assert stored.state.subjects == {
        bus.subject(PARTNER_REPLIES.subject(partner_id=p)): 1 for p in (COPIER, VICTIM)
    }

    async def both_read() -> list[tuple[str, str]] | None:
        letters = await dead_letters(db)
        return letters if len(letters) == 2 else None

    letters = await eventually(both_read, timeout=15)
    assert sorted(VICTIM in error for _, error in letters) == [False, True]

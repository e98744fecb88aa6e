"""The reference partner with restricted credentials, as the local stack runs it: its own inbox
prefix, and bound to the durable consumer Carebridge made (PARTNER_CONSUMER=bind)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import msgspec
import pytest
from nats.js.errors import NotFoundError

from contracts.envelope import Metadata, event_type
from contracts.partners import (
    DataErasureRequested,
    IncidentReported,
    Offer,
    OfferAccepted,
    partner_offer_decoder,
    partner_reply_decoder,
)
from contracts.registry import STREAMS
from deploy.nats_auth import ADMIN, ensure_partner_consumers, partner_durable, partner_inbox_prefix
from services.partner.app import PartnerSettings
from services.partner.consumers import ReferencePartner
from services.partner.incident import report_incident
from services.runtime.messaging.bus import Bus
from tests.partner_samples import offer as offer_sample
from tests.support import eventually
from tests.support.nats_auth import Server, authorized_nats

NAMESPACE = "restricted"
ALPHA = "alpha-shuttle"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with authorized_nats(tmp_path_factory.mktemp("nats-auth"), (ALPHA,), NAMESPACE) as started:
        yield started


async def pending(admin: Bus, partner: str) -> int:
    info = await admin.js.consumer_info(admin.stream("PARTNERS"), partner_durable(partner))
    return int(info.num_pending or 0) + int(info.num_ack_pending or 0)


async def test_the_reference_partner_answers_with_restricted_credentials(server: Server) -> None:
    admin = await Bus.connect(server.url(ADMIN), name="admin", namespace=NAMESPACE)
    await admin.provision(STREAMS)
    await ensure_partner_consumers(admin, (ALPHA,))
    logistics = await Bus.connect(server.url("logistics"), name="logistics", namespace=NAMESPACE)
    settings = PartnerSettings(
        partner_id=ALPHA,
        partner_kinds="transfer",
        nats_url=server.url(ALPHA),
        nats_namespace=NAMESPACE,
        nats_inbox_prefix=partner_inbox_prefix(ALPHA),
        partner_consumer="bind",
        reply_delay=0.05,
        # The answer stays the last reply on the subject.
        step_delay=3600.0,
    )
    sent = offer_sample("transfer")
    meta = Metadata(
        id=str(uuid.uuid4()),
        type=event_type(Offer),
        source="/carebridge/logistics",
        time=datetime.now(UTC),
    )
    await logistics.js.publish(
        logistics.subject(f"partners.{ALPHA}.offers.transfer"),
        msgspec.json.encode(sent),
        headers=meta.headers(),
    )
    bus = await Bus.connect(
        settings.nats_url,
        name="partner",
        namespace=NAMESPACE,
        inbox_prefix=settings.nats_inbox_prefix,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(ReferencePartner(settings, bus).run(stop))
    replies = admin.subject(f"partners.{ALPHA}.replies")
    try:

        async def accepted() -> bool:
            try:
                last = await admin.js.get_last_msg(admin.stream("PARTNER_REPLIES"), replies)
            except NotFoundError:
                return False
            return isinstance(partner_reply_decoder.decode(last.data or b""), OfferAccepted)

        async def in_hand() -> bool:
            return await pending(admin, ALPHA) == 1

        await eventually(accepted)
        # Delivered and held: an accepted offer is settled once its booking is served.
        await eventually(in_hand)
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
        for connection in (bus, logistics, admin):
            await connection.close()


async def test_data_rights_messages_fit_a_partners_permissions(server: Server) -> None:
    """An erasure request reaches a partner through the consumer it may read, and its breach
    report goes out on the subject it may publish: no grant of their own."""
    admin = await Bus.connect(server.url(ADMIN), name="admin", namespace=NAMESPACE)
    await admin.provision(STREAMS)
    await ensure_partner_consumers(admin, (ALPHA,))
    logistics = await Bus.connect(server.url("logistics"), name="logistics", namespace=NAMESPACE)
    partner = await Bus.connect(
        server.url(ALPHA),
        name="partner",
        namespace=NAMESPACE,
        inbox_prefix=partner_inbox_prefix(ALPHA),
    )
    request = DataErasureRequested(
        offer_id=str(uuid.uuid4()), booking_id=str(uuid.uuid4()), erased_at=datetime.now(UTC)
    )
    meta = Metadata(
        id=str(uuid.uuid4()),
        type=event_type(DataErasureRequested),
        source="/carebridge/logistics",
        time=datetime.now(UTC),
    )
    try:
        await logistics.js.publish(
            logistics.subject(f"partners.{ALPHA}.offers.transfer"),
            msgspec.json.encode(request),
            headers=meta.headers(),
        )
        psub = await partner.js.pull_subscribe_bind(
            partner_durable(ALPHA), stream=partner.stream("PARTNERS")
        )
        # The durable may still hold an offer an earlier test left in hand: read past it.
        seen = []
        while request not in seen:
            (received,) = await psub.fetch(1, timeout=5)
            seen.append(partner_offer_decoder.decode(received.data))
            await received.ack()

        report_id = await report_incident(
            partner,
            ALPHA,
            IncidentReported(
                category="lost_device",
                description="A tablet was stolen",
                detected_at=datetime.now(UTC),
                all_data=True,
            ),
        )

        last = await admin.js.get_last_msg(
            admin.stream("PARTNER_REPLIES"), admin.subject(f"partners.{ALPHA}.replies")
        )
        assert (last.headers or {})["ce-id"] == report_id
        assert isinstance(partner_reply_decoder.decode(last.data or b""), IncidentReported)
    finally:
        for connection in (partner, logistics, admin):
            await connection.close()

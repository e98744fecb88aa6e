"""Partners on the webhook channel, on the real servers: a real HTTP server is the partner's
endpoint; offers, withdrawals and erasure notices reach it as Standard Webhooks signed with
the secret its registration answered, and it answers over the reply API with its token."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from contracts.inquiries import InquiryConfirmed, PersonalDataErased
from contracts.logistics import booking_details_decoder
from contracts.partners import (
    DataErasureRequested,
    Offer,
    OfferWithdrawn,
    PartnerOffer,
    partner_offer_decoder,
)
from contracts.registry import INQUIRY_CONFIRMED, INQUIRY_ERASED
from services.runtime.messaging.bus import Bus
from tests.integration.logistics.conftest import Client, Start, Tap, booking_row, publish
from tests.logistics_samples import partner, transfer
from tests.support import eventually, metrics_page, own_metrics_port
from tests.support.webhook_receiver import Receiver, webhook_receiver

WEBHOOKS = {
    "PARTNER_WEBHOOK_ALLOW_PRIVATE": "true",
    "PARTNER_WEBHOOK_RETRY_FIRST": "0.2",
    "PARTNER_WEBHOOK_INTERVAL": "0.05",
}


@pytest.fixture
def endpoint() -> Iterator[Receiver]:
    with webhook_receiver() as receiver:
        yield receiver


async def register_webhook(
    client: Client, coordinator: dict[str, str], partner_id: str, url: str, **changes: Any
) -> dict[str, Any]:
    body = partner(partner_id, "transfer", channel={"type": "webhook", "url": url}, **changes)
    answer = await client.post("/v1/partners", json=body, headers=coordinator)
    assert answer.status_code == 201, answer.text
    registered: dict[str, Any] = answer.json()
    assert registered["channel"] == {"type": "webhook", "url": url}
    assert registered["credentials"]["signing_secret"].startswith("whsec_")
    assert registered["credentials"]["token"].startswith("cbw_")
    return registered


async def confirm_transfer(bus: Bus) -> str:
    inquiry = str(uuid.uuid4())
    event = InquiryConfirmed(
        inquiry_id=inquiry,
        version=6,
        bookings=(
            booking_details_decoder.decode(msgspec.json.encode({"kind": "transfer", **transfer()})),
        ),
        confirmed_at=datetime.now(UTC),
    )
    await publish(bus, INQUIRY_CONFIRMED.subject(), event, source="/carebridge/inquiries")
    return inquiry


async def delivered(endpoint: Receiver, count: int = 1) -> list[PartnerOffer]:
    async def arrived() -> list[PartnerOffer] | None:
        got = endpoint.received()
        if len(got) < count:
            return None
        return [partner_offer_decoder.decode(r.body) for r in got]

    found: list[PartnerOffer] = await eventually(arrived, timeout=15)
    return found


def token_of(registered: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {registered['credentials']['token']}"}


async def test_a_webhook_partner_gets_a_signed_offer_answers_over_rest_and_the_booking_is_confirmed(
    start: Start,
    coordinator: dict[str, str],
    bus: Bus,
    endpoint: Receiver,
    db: asyncpg.Connection,
) -> None:
    async with start(**WEBHOOKS) as client:
        registered = await register_webhook(client, coordinator, "shuttle-web", endpoint.url)
        await confirm_transfer(bus)

        (offer,) = await delivered(endpoint)
        request = endpoint.received()[0]
        secret = registered["credentials"]["signing_secret"]
        # The body verifies with the published secret, exactly as a partner's receiver does.
        verified = Webhook(secret).verify(request.body, request.headers)
        assert isinstance(offer, Offer)
        assert verified["type"] == "offer"
        assert verified["offer_id"] == offer.offer_id
        assert offer.details.patient.full_name == "Olena Kovalenko"
        # The same message id as on NATS: a partner on both never takes one offer for two.
        assert uuid.UUID(request.headers["webhook-id"])

        listed = await client.get("/v1/partner/offers", headers=token_of(registered))
        assert listed.status_code == 200, listed.text
        assert [o["offer_id"] for o in listed.json()] == [offer.offer_id]

        answer = await client.post(
            "/v1/partner/replies",
            json={"type": "offer_accepted", "offer_id": offer.offer_id},
            headers=token_of(registered),
        )
        assert answer.status_code == 202, answer.text
        row = await booking_row(db, offer.booking_id)
        assert (row["status"], row["partner_id"]) == ("confirmed", "shuttle-web")
        progress = await client.post(
            "/v1/partner/replies",
            json={"type": "status_update", "booking_id": offer.booking_id, "status": "completed"},
            headers=token_of(registered),
        )
        assert progress.status_code == 202, progress.text
        assert (await booking_row(db, offer.booking_id))["status"] == "completed"
        # Nothing waits, and what the partner was sent is in the case's disclosure log.
        assert await db.fetchval("SELECT count(*) FROM webhook_deliveries") == 0
        assert (
            await db.fetchval("SELECT count(*) FROM disclosure_log WHERE recipient = 'shuttle-web'")
            == 1
        )


async def test_a_tampered_body_fails_verification_with_the_published_secret(
    start: Start, coordinator: dict[str, str], bus: Bus, endpoint: Receiver
) -> None:
    async with start(**WEBHOOKS) as client:
        registered = await register_webhook(client, coordinator, "shuttle-web", endpoint.url)
        await confirm_transfer(bus)
        await delivered(endpoint)
    request = endpoint.received()[0]
    tampered = request.body.replace(b"Olena", b"Oleg.")
    assert tampered != request.body
    hook = Webhook(registered["credentials"]["signing_secret"])
    with pytest.raises(WebhookVerificationError):
        hook.verify(tampered, request.headers)
    other = Webhook("whsec_" + "A" * 43 + "=")
    with pytest.raises(WebhookVerificationError):
        other.verify(request.body, request.headers)


async def test_an_endpoint_that_fails_three_times_then_recovers_gets_the_offer_in_time(
    start: Start,
    coordinator: dict[str, str],
    bus: Bus,
    endpoint: Receiver,
    db: asyncpg.Connection,
) -> None:
    endpoint.fail_first = 3
    async with start(**WEBHOOKS, OFFER_TIMEOUT="30", **own_metrics_port()) as client:
        await register_webhook(client, coordinator, "shuttle-web", endpoint.url)
        await confirm_transfer(bus)
        (offer,) = await delivered(endpoint)
        assert isinstance(offer, Offer)
        assert datetime.now(UTC) < offer.respond_by
        assert endpoint.answers == 4
        page = await metrics_page(client)
    assert 'webhook_deliveries_total{outcome="failed"} 3.0' in page
    assert 'webhook_deliveries_total{outcome="delivered"} 1.0' in page
    row = await booking_row(db, offer.booking_id)
    assert row["status"] == "offered"


async def test_an_endpoint_down_past_the_deadline_loses_the_offer_to_the_next_partner(
    start: Start,
    coordinator: dict[str, str],
    bus: Bus,
    endpoint: Receiver,
    offers: Tap,
    db: asyncpg.Connection,
) -> None:
    endpoint.down = True
    async with start(**WEBHOOKS, OFFER_TIMEOUT="2") as client:
        await register_webhook(client, coordinator, "shuttle-web", endpoint.url, priority=20)
        nats = await client.post(
            "/v1/partners", json=partner("shuttle-nats", "transfer"), headers=coordinator
        )
        assert nats.status_code == 201, nats.text
        await confirm_transfer(bus)

        seen = await offers.until(
            lambda s: any(
                isinstance(o, Offer) and subject.startswith("partners.shuttle-nats.")
                for subject, o in s
            )
        )
        first = next(o for s, o in seen if s.startswith("partners.shuttle-web.offers"))
        assert isinstance(first, Offer)
        withdrawn = [o for _, o in seen if isinstance(o, OfferWithdrawn)]
        assert [w.offer_id for w in withdrawn] == [first.offer_id]

        async def given_up() -> bool:
            # The offer is given up at its deadline; its withdrawal is still tried (for the
            # notice window), as the endpoint may come back.
            rows = await db.fetch("SELECT message_id FROM webhook_deliveries")
            return len(rows) == 1

        await eventually(given_up, timeout=10)
    assert endpoint.received() == []
    assert endpoint.answers >= 2
    row = await booking_row(db, first.booking_id)
    assert (row["status"], row["partner_id"]) == ("offered", None)


async def test_a_reply_naming_another_partners_offer_is_refused_and_changes_nothing(
    start: Start,
    coordinator: dict[str, str],
    bus: Bus,
    endpoint: Receiver,
    db: asyncpg.Connection,
) -> None:
    async with start(**WEBHOOKS) as client:
        await register_webhook(client, coordinator, "shuttle-web", endpoint.url, priority=20)
        with webhook_receiver() as other_endpoint:
            other = await register_webhook(
                client, coordinator, "other-web", other_endpoint.url, priority=1
            )
            await confirm_transfer(bus)
            (offer,) = await delivered(endpoint)

            answer = await client.post(
                "/v1/partner/replies",
                json={"type": "offer_accepted", "offer_id": offer.offer_id},
                headers=token_of(other),
            )
            assert 400 <= answer.status_code < 500, answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert "other-web" in answer.json()["detail"] or "offer" in answer.json()["detail"]
            listed = await client.get("/v1/partner/offers", headers=token_of(other))
            assert listed.json() == []
            assert other_endpoint.received() == []
        row = await booking_row(db, offer.booking_id)
        assert (row["status"], row["partner_id"]) == ("offered", None)


async def test_an_erasure_reaches_webhook_partners_too(
    start: Start,
    coordinator: dict[str, str],
    bus: Bus,
    endpoint: Receiver,
) -> None:
    async with start(**WEBHOOKS) as client:
        registered = await register_webhook(client, coordinator, "shuttle-web", endpoint.url)
        inquiry = await confirm_transfer(bus)
        (offer,) = await delivered(endpoint)
        await publish(
            bus,
            INQUIRY_ERASED.subject(),
            PersonalDataErased(inquiry_id=inquiry, erased_at=datetime.now(UTC)),
            source="/carebridge/inquiries",
        )
        messages = await delivered(endpoint, 2)
    notice = messages[1]
    assert isinstance(notice, DataErasureRequested)
    assert (notice.offer_id, notice.booking_id) == (offer.offer_id, offer.booking_id)
    request = endpoint.received()[1]
    Webhook(registered["credentials"]["signing_secret"]).verify(request.body, request.headers)
    assert b"Olena" not in request.body


async def test_rotated_credentials_overlap_the_old_ones(
    start: Start, coordinator: dict[str, str], bus: Bus, endpoint: Receiver
) -> None:
    async with start(**WEBHOOKS) as client:
        registered = await register_webhook(client, coordinator, "shuttle-web", endpoint.url)
        rotated = await client.post("/v1/partners/shuttle-web/credentials", headers=coordinator)
        assert rotated.status_code == 201, rotated.text
        fresh = rotated.json()
        assert fresh["signing_secret"] != registered["credentials"]["signing_secret"]
        assert fresh["previous_valid_until"] is not None
        await confirm_transfer(bus)
        await delivered(endpoint)
        request = endpoint.received()[0]
        for secret in (registered["credentials"]["signing_secret"], fresh["signing_secret"]):
            Webhook(secret).verify(request.body, request.headers)
        for headers in (token_of(registered), {"Authorization": f"Bearer {fresh['token']}"}):
            assert (await client.get("/v1/partner/offers", headers=headers)).status_code == 200
        # A repeated PUT of the same partner issues nothing new.
        body = partner("shuttle-web", "transfer", channel={"type": "webhook", "url": endpoint.url})
        again = await client.put("/v1/partners/shuttle-web", json=body, headers=coordinator)
        assert again.status_code == 200, again.text
        assert again.json()["credentials"] is None
        unknown = await client.post("/v1/partners/none/credentials", headers=coordinator)
        assert unknown.status_code == 404
        # Back on NATS: its tokens no longer answer, and there is nothing to rotate.
        back = await client.put(
            "/v1/partners/shuttle-web", json=partner("shuttle-web", "transfer"), headers=coordinator
        )
        assert back.status_code == 200, back.text
        refused = await client.get("/v1/partner/offers", headers=token_of(registered))
        assert refused.status_code == 401
        nats = await client.post("/v1/partners/shuttle-web/credentials", headers=coordinator)
        assert nats.status_code == 409


async def test_a_private_or_plain_http_url_is_refused_without_the_allow_flag(
    client: Client, coordinator: dict[str, str], db: asyncpg.Connection
) -> None:
    for url, why in (
        ("http://partner.example/hook", "https"),
        ("https://127.0.0.1/hook", "private"),
        ("https://10.1.2.3/hook", "private"),
        ("https://localhost/hook", "private"),
        ("ftp://partner.example/hook", "https"),
    ):
        body = partner("shuttle-web", "transfer", channel={"type": "webhook", "url": url})
        answer = await client.post("/v1/partners", json=body, headers=coordinator)
        assert answer.status_code in (400, 422), (url, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert why in answer.text, answer.text
    assert await db.fetchval("SELECT count(*) FROM partners") == 0
    assert await db.fetchval("SELECT count(*) FROM partner_credentials") == 0


async def test_bad_input_on_the_reply_api_is_refused_and_changes_nothing(
    start: Start, coordinator: dict[str, str], endpoint: Receiver, db: asyncpg.Connection
) -> None:
    async with start(**WEBHOOKS) as client:
        registered = await register_webhook(client, coordinator, "shuttle-web", endpoint.url)
        for headers in ({}, {"Authorization": "Bearer cbw_made-up"}, coordinator):
            refused = await client.get("/v1/partner/offers", headers=headers)
            assert refused.status_code == 401, refused.text
        for body in (
            b"not json",
            b'{"type": "offer_accepted"}',
            b'{"type": "support_hug", "offer_id": "x"}',
            b'{"type": "offer_accepted", "offer_id": "not-a-uuid"}',
            b'{"type": "offer_accepted", "offer_id": "' + str(uuid.uuid4()).encode() + b'"}',
        ):
            answer = await client.post(
                "/v1/partner/replies",
                content=body,
                headers=token_of(registered) | {"content-type": "application/json"},
            )
            assert 400 <= answer.status_code < 500, (body, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json")
        bad_channel = partner("x-web", "transfer", channel={"type": "carrier-pigeon"})
        refused = await client.post("/v1/partners", json=bad_channel, headers=coordinator)
        assert refused.status_code == 400, refused.text
    assert await db.fetchval("SELECT count(*) FROM bookings") == 0
    assert await db.fetchval("SELECT count(*) FROM partners") == 1

"""The reference partner on the webhook channel (`python -m services.partner --http`): a small
HTTP server that Carebridge posts its offers to as Standard Webhooks, which checks each
signature with the partner's `whsec_…` secret and answers over the reply API with the
partner's token. The same decisions as the NATS partner (`domain`); no NATS at all.

Plain threads and the standard library's HTTP server, to read as a template for any stack: a
request is verified, acknowledged with 204 at once, and its answer sent from a worker thread
after the reply delay. On start it asks `GET /v1/partner/offers` for what it may have missed
while it was down."""

from __future__ import annotations

import random
import signal
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated, Any, Literal, cast

import httpx
import msgspec
import structlog
from standardwebhooks import Webhook, WebhookVerificationError

from contracts.logistics import BookingKind, PartnerId
from contracts.partners import (
    DataErasureRequested,
    Offer,
    OfferAccepted,
    OfferWithdrawn,
    partner_offer_decoder,
)
from services.partner import domain

log = structlog.get_logger("services.partner")

_KIND = "(transfer|interpreter|shipment)"
Seconds = Annotated[float, msgspec.Meta(ge=0, le=86_400)]


class HttpPartnerSettings(msgspec.Struct, frozen=True, kw_only=True, rename="upper"):
    """Field `partner_webhook_secret` is read from `PARTNER_WEBHOOK_SECRET`, and so on: the
    secret and token are what the partner's registration answered."""

    partner_id: PartnerId
    partner_kinds: Annotated[str, msgspec.Meta(pattern=rf"^{_KIND}(,{_KIND})*$")] = (
        "transfer,interpreter,shipment"
    )
    partner_webhook_secret: Annotated[str, msgspec.Meta(pattern=r"^whsec_[A-Za-z0-9+/=]+$")]
    partner_token: Annotated[str, msgspec.Meta(min_length=8)]
    # Logistics' API, where replies go.
    logistics_url: str = "http://127.0.0.1:8003"
    partner_http_host: str = "127.0.0.1"
    partner_http_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8090
    accept_rate: Annotated[float, msgspec.Meta(ge=0, le=1)] = 1.0
    reply_delay: Seconds = 1.0
    step_delay: Seconds = 3.0
    random_seed: int | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = "auto"

    @property
    def kinds(self) -> tuple[BookingKind, ...]:
        return tuple(cast(BookingKind, k) for k in self.partner_kinds.split(","))


class HttpPartner:
    """Receives webhooks, answers over REST. `stopped` jobs (withdrawn, erased) end early."""

    def __init__(self, settings: HttpPartnerSettings) -> None:
        self.settings = settings
        self.webhook = Webhook(settings.partner_webhook_secret)
        self.api = httpx.Client(
            base_url=settings.logistics_url,
            headers={"Authorization": f"Bearer {settings.partner_token}"},
            timeout=10.0,
        )
        self.seed = (
            settings.random_seed if settings.random_seed is not None else random.getrandbits(32)
        )
        self.seen: set[str] = set()
        self.stopped: set[str] = set()
        self.lock = threading.Lock()

    def received(self, body: bytes, headers: dict[str, str]) -> int:
        """The status to answer a webhook with: 401 when its signature does not verify (a
        forged or altered message is never acted on), 204 otherwise, once per `webhook-id`."""
        try:
            self.webhook.verify(body, headers)
        except WebhookVerificationError:
            log.warning("webhook refused: signature does not verify")
            return 401
        message = partner_offer_decoder.decode(body)
        with self.lock:
            if headers.get("webhook-id", "") in self.seen:
                return 204
            self.seen.add(headers.get("webhook-id", ""))
        match message:
            case Offer():
                threading.Thread(target=self.serve, args=(message,), daemon=True).start()
            case OfferWithdrawn() | DataErasureRequested():
                # Stop serving it; an erasure also means forgetting what the offer said.
                with self.lock:
                    self.stopped.add(message.offer_id)
                log.info("offer closed", offer_id=message.offer_id, type=type(message).__name__)
        return 204

    def serve(self, offer: Offer) -> None:
        time.sleep(self.settings.reply_delay)
        answer = domain.decide(
            offer,
            kinds=self.settings.kinds,
            accept_rate=self.settings.accept_rate,
            roll=domain.offer_roll(self.seed, offer.offer_id),
            now=datetime.now(UTC),
        )
        if answer is None or not self.reply(answer):
            return
        if not isinstance(answer, OfferAccepted):
            return
        for step in domain.steps(offer):
            time.sleep(self.settings.step_delay)
            with self.lock:
                if offer.offer_id in self.stopped:
                    return
            update = domain.status_update(
                offer.booking_id, offer.details, step, at=datetime.now(UTC)
            )
            if not self.reply(update):
                return

    def reply(self, message: msgspec.Struct) -> bool:
        try:
            response = self.api.post(
                "/v1/partner/replies",
                content=msgspec.json.encode(message),
                headers={"content-type": "application/json"},
            )
        except httpx.HTTPError as exc:
            # Logistics away: the offer stays listed in GET /v1/partner/offers until its
            # deadline, and the next start answers it from there.
            log.warning("reply not sent", error=type(exc).__name__)
            return False
        if response.status_code != 202:
            # A problem+json saying why (a late answer, an offer withdrawn meanwhile).
            log.info("reply refused", status=response.status_code, detail=_detail(response))
            return False
        log.info("replied", type=msgspec.json.decode(msgspec.json.encode(message))["type"])
        return True

    def catch_up(self) -> None:
        """Answer the offers still open that the endpoint may have missed while down."""
        try:
            response = self.api.get("/v1/partner/offers")
        except httpx.HTTPError as exc:
            log.warning("open offers not read", error=type(exc).__name__)
            return
        if response.status_code != 200:
            log.warning("open offers not read", status=response.status_code)
            return
        for offer in msgspec.convert(response.json(), list[Offer]):
            threading.Thread(target=self.serve, args=(offer,), daemon=True).start()


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", ""))
    except ValueError:
        return ""


def serve_http(settings: HttpPartnerSettings) -> int:
    """Run the HTTP partner until SIGINT or SIGTERM."""
    partner = HttpPartner(settings)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(min(length, 1_000_000))
            headers: dict[str, Any] = {k.lower(): v for k, v in self.headers.items()}
            try:
                status = partner.received(body, headers)
            except msgspec.DecodeError:
                status = 400
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass  # no access log: the partner logs what it did, never a traveller's data

    server = ThreadingHTTPServer((settings.partner_http_host, settings.partner_http_port), Handler)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: threading.Thread(target=server.shutdown).start())
    log.info(
        "partner started",
        partner_id=settings.partner_id,
        channel="webhook",
        port=server.server_address[1],
    )
    partner.catch_up()
    try:
        server.serve_forever()
    finally:
        server.server_close()
        partner.api.close()
        log.info("partner stopped", partner_id=settings.partner_id)
    return 0

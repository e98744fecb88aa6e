"""A steady stream of inquiries taken through the coordinator's steps (as tests/e2e's walkthrough
does) up to confirmation, which makes logistics book a transfer and an interpreter and offer them
to the reference partners. Every request is retried through outages the way a careful client
retries: the same Idempotency-Key for the submission, and each coordinator step decided anew
from the case's current state and version (If-Match), so a step whose answer was lost is never
applied twice."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.runtime.core.pacing import wait_any
from tests.e2e.test_walkthrough import CONFIRMATION, OFFER
from tests.inquiry_samples import SUBMISSION

# A confirmed case books these, one each (CONFIRMATION's plan).
BOOKED_KINDS = ("interpreter", "transfer")
RETRY_PAUSE = 0.3
STEP_DEADLINE = 120.0


class GaveUp(Exception):
    """A request kept failing past STEP_DEADLINE."""


@dataclass
class Inquiry:
    number: int
    id: str = ""
    submitted_at: float = 0.0
    # Wall clock when the confirmation request was sent, and when it was answered.
    confirming_at: float = 0.0
    confirmed_at: float = 0.0
    requests: int = 0
    retries: int = 0


@dataclass
class Traffic:
    """Submits inquiries at `rate` a second until `stop`, each driven to confirmation; requests
    go to the inquiries service at each of `urls` in turn (its replicas behind a balancer), by
    default the one in the stack's manifest."""

    manifest: dict[str, Any]
    rate: float
    run_id: str
    urls: list[str] = field(default_factory=list)
    inquiries: list[Inquiry] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    # Every answer by status code, retried ones included: outages must read 503, never 500.
    statuses: Counter[int] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        services = self.manifest["services"]
        token = self.manifest["credentials"]["staff"]["coordinator"]
        self.coordinator = {"Authorization": f"Bearer {token}"}
        self.site = {"X-API-Key": self.manifest["credentials"]["api_keys"]["local-site"]}
        limits = httpx.Limits(max_connections=50)
        self.clients = [
            httpx.AsyncClient(base_url=url, timeout=10.0, limits=limits)
            for url in self.urls or [services["inquiries"]]
        ]

    async def run(self, stop: asyncio.Event) -> None:
        """Start one inquiry every 1/rate seconds until `stop`, then wait for all of them."""
        tasks: list[asyncio.Task[None]] = []
        begin = time.monotonic()
        try:
            while not stop.is_set():
                inquiry = Inquiry(len(self.inquiries))
                self.inquiries.append(inquiry)
                tasks.append(asyncio.create_task(self._drive(inquiry)))
                next_at = begin + len(self.inquiries) / self.rate
                await wait_any(stop, timeout=max(0.0, next_at - time.monotonic()))
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for client in self.clients:
                await client.aclose()

    async def _drive(self, inquiry: Inquiry) -> None:
        try:
            inquiry.submitted_at = time.time()
            inquiry.id = await self._submit(inquiry)
            while await self._step(inquiry):
                pass
        except GaveUp as exc:
            self.failures.append(f"inquiry {inquiry.number}: {exc}")

    async def _submit(self, inquiry: Inquiry) -> str:
        key = f"{self.run_id}-{inquiry.number}"
        headers = {**self.site, "Idempotency-Key": key}
        response = await self._request(inquiry, "POST", "/v1/inquiries", SUBMISSION, headers)
        return str(response.json()["id"])

    async def _step(self, inquiry: Inquiry) -> bool:
        """Take the case one step further; False once it is confirmed."""
        case = f"/v1/coordinator/inquiries/{inquiry.id}"
        current = await self._request(inquiry, "GET", case, None, self.coordinator)
        view = current.json()
        status = view["status"]
        if status == "confirmed":
            if not inquiry.confirmed_at:
                inquiry.confirmed_at = time.time()
            return False
        headers = {**self.coordinator, "If-Match": current.headers["etag"]}
        path, body = _next_step(status, view)
        if status == "accepted" and not inquiry.confirming_at:
            inquiry.confirming_at = time.time()
        response = await self._request(inquiry, "POST", f"{case}/{path}", body, headers)
        if response.status_code in (200, 201) and status == "accepted":
            inquiry.confirmed_at = time.time()
        return True

    async def _request(
        self,
        inquiry: Inquiry,
        method: str,
        path: str,
        body: Any,
        headers: dict[str, str],
    ) -> httpx.Response:
        """Retried while the service or what it stands on is away. 409 and 412 (the case moved
        on, or our version is stale) are answers: the caller reads the case again."""
        deadline = time.monotonic() + STEP_DEADLINE
        last = ""
        while time.monotonic() < deadline:
            client = self.clients[inquiry.requests % len(self.clients)]
            inquiry.requests += 1
            try:
                response = await client.request(method, path, json=body, headers=headers)
            except httpx.TransportError as exc:
                last = type(exc).__name__
            else:
                self.statuses[response.status_code] += 1
                if response.status_code in (200, 201, 409, 412):
                    return response
                # 422 until the catalogue has learned the seeded conditions from content.
                last = f"{response.status_code} {response.text[:200]}"
            inquiry.retries += 1
            await asyncio.sleep(RETRY_PAUSE)
        raise GaveUp(f"{method} {path}: {last}")


def _next_step(status: str, view: dict[str, Any]) -> tuple[str, Any]:
    match status:
        case "submitted":
            return "transitions", {"to": "in_review"}
        case "in_review":
            return "offers", OFFER
        case "offer_sent":
            latest = max(int(o["version"]) for o in view["offers"])
            return f"offers/{latest}/accept", None
        case "accepted":
            return "confirmation", CONFIRMATION
        case _:
            raise GaveUp(f"case {view['id']} in an unexpected state {status!r}")

"""Proof of work for submissions from browsers (ALTCHA, self-hosted: no third party sees the
visitor). A page asks for a challenge, its browser spends a moment of CPU solving it, and the
submission carries the solution in the `Altcha` header. A publishable key sits in public pages,
so without this anyone could replay it with a script and flood inquiries in a site's name; with
it each submission costs the sender that moment of CPU, each solution is spent once, and one
visitor gets a bounded number of submissions an hour.

Challenges are ALTCHA v2 (the `altcha` package), derived with PBKDF2/SHA-256, signed with the
service's HMAC key: the server keeps nothing until a solution is spent."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import altcha

from services.inquiries.store import proof_of_work as store
from services.runtime.core.db import Pool, transaction

ALGORITHM = "PBKDF2/SHA-256"
# The window the per-visitor limit counts in.
VISITOR_WINDOW = timedelta(hours=1)


class ProofRefused(Exception):
    """The submission's proof of work is missing, malformed, wrong, expired or spent."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class VisitorLimited(Exception):
    """The visitor has made as many browser submissions as an hour allows."""


@dataclass(frozen=True)
class ProofOfWork:
    """Issues and checks challenges. `hmac_key` signs them (replicas share it); `cost` is the
    PBKDF2 iterations of one attempt (a browser makes about 256 attempts); `ttl` how long a
    challenge may be solved and sent; `per_visitor` browser submissions an hour per visitor."""

    hmac_key: bytes
    cost: int
    ttl: timedelta
    per_visitor: int

    def challenge(self, now: datetime) -> dict[str, Any]:
        made = altcha.create_challenge(
            ALGORITHM,
            self.cost,
            expires_at=now + self.ttl,
            hmac_secret=self.hmac_key,
        )
        answer: dict[str, Any] = made.to_dict()
        return answer

    def check(self, payload: str | None) -> tuple[str, datetime]:
        """The challenge's signature and expiry when `payload` (the `Altcha` header: base64 of
        {"challenge", "solution"}) solves a challenge of ours in time; ProofRefused otherwise.
        Spending it is `spend`'s part."""
        if not payload:
            raise ProofRefused(
                "a submission from a browser needs a solved proof-of-work challenge in the "
                "Altcha header: GET /v1/altcha/challenge, solve it, send the payload"
            )
        result = altcha.verify_solution(payload, self.hmac_key)
        if result.expired:
            raise ProofRefused("the proof-of-work challenge expired; solve a new one")
        if not result.verified:
            raise ProofRefused("the proof-of-work solution is malformed or wrong")
        # Verified: the payload decodes, and its challenge is ours (the signature checks).
        parsed = altcha.Payload.from_base64(payload)
        signature = parsed.challenge.signature or ""
        expires = parsed.challenge.parameters.expires_at
        if not isinstance(expires, int):
            raise ProofRefused("the proof-of-work challenge has no expiry")
        return signature, datetime.fromtimestamp(expires, UTC)

    def visitor(self, consumer_id: uuid.UUID, address: str) -> bytes:
        """A visitor as the limit counts it: keyed by the HMAC key, so the table holds no
        address a reader could recover."""
        return hmac.new(self.hmac_key, f"{consumer_id}|{address}".encode(), hashlib.sha256).digest()


async def spend(
    pool: Pool,
    proof: ProofOfWork,
    *,
    signature: str,
    expires_at: datetime,
    visitor: bytes,
    now: datetime,
) -> None:
    """Spend a verified solution for one submission: ProofRefused if it was spent before,
    VisitorLimited if the visitor is past its hourly submissions (nothing is spent then)."""
    since = now - VISITOR_WINDOW
    async with transaction(pool) as conn:
        await store.lock_visitor(conn, visitor)
        if await store.count_spent_since(conn, visitor, since) >= proof.per_visitor:
            raise VisitorLimited
        if not await store.spend_challenge(conn, signature, visitor, now, expires_at):
            raise ProofRefused("this proof-of-work solution was used before; solve a new one")
        await store.delete_spent_before(conn, now, since)

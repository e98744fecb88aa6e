"""HTTP doors of the proof of work that browser submissions carry (ALTCHA): the challenge a
page's widget solves, and the check a submission made with a publishable key passes before it
is read further (usecases/proof_of_work.py says why)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException, TooManyRequestsException
from litestar.params import HeaderParameter

from services.inquiries.usecases import proof_of_work
from services.inquiries.usecases.proof_of_work import ProofOfWork, ProofRefused, VisitorLimited
from services.runtime.access.api_keys import ApiKey
from services.runtime.service.running import Runtime

# The app provides the ProofOfWork as dependency "proof".
ProofDependency = NamedDependency[ProofOfWork]
ALTCHA_HEADER = Annotated[
    str | None,
    HeaderParameter(
        name="altcha",
        max_length=4000,
        description=(
            "A solved proof-of-work challenge (GET /v1/altcha/challenge): base64 of "
            '{"challenge": ..., "solution": {"counter", "derivedKey"}}, as the ALTCHA widget '
            "sends it. Required with a publishable key; each solution is spent once."
        ),
    ),
]


class AltchaParameters(msgspec.Struct, frozen=True, kw_only=True):
    """What the browser solves: find a counter whose PBKDF2 key of nonce+counter (salt,
    `cost` iterations, `keyLength` bytes) starts with `keyPrefix` (hex)."""

    algorithm: str
    cost: int
    key_length: int = msgspec.field(name="keyLength")
    key_prefix: str = msgspec.field(name="keyPrefix")
    nonce: str
    salt: str
    expires_at: int = msgspec.field(name="expiresAt")


class AltchaChallenge(msgspec.Struct, frozen=True, kw_only=True):
    """An ALTCHA v2 challenge; `signature` is the service's HMAC of the parameters."""

    parameters: AltchaParameters
    signature: str


class ProofOfWorkController(Controller):
    path = "/v1/altcha"
    tags = ("inquiries",)

    @get(
        "/challenge",
        summary="A proof-of-work challenge for a submission from a browser (ALTCHA v2)",
        description=(
            "An ALTCHA v2 challenge (PBKDF2/SHA-256, signed, expiring): a browser solves it and "
            "sends the payload in the `Altcha` header of its submission. Never cached."
        ),
    )
    async def get_altcha_challenge(self, proof: ProofDependency) -> Response[AltchaChallenge]:
        challenge = msgspec.convert(proof.challenge(datetime.now(UTC)), AltchaChallenge)
        return Response(challenge, headers={"Cache-Control": "no-store"})


async def check_browser_submission(
    request: Request[Any, Any, Any],
    runtime: Runtime,
    proof: ProofOfWork,
    payload: str | None,
    now: datetime,
) -> None:
    """Refuse a submission made with a publishable key unless it carries an unspent solution
    and its visitor is within the hourly limit; a secret key's server answers for its own."""
    consumer: ApiKey = request.state.consumer
    if not consumer.publishable:
        return
    try:
        signature, expires_at = proof.check(payload)
        await proof_of_work.spend(
            runtime.pool,
            proof,
            signature=signature,
            expires_at=expires_at,
            visitor=proof.visitor(consumer.id, request.state.visitor),
            now=now,
        )
    except ProofRefused as refused:
        raise PermissionDeniedException(refused.detail) from None
    except VisitorLimited:
        window = int(proof_of_work.VISITOR_WINDOW.total_seconds())
        raise TooManyRequestsException(
            f"this visitor has sent {proof.per_visitor} inquiries from this site within an "
            "hour; try again later",
            headers={"Retry-After": str(window)},
        ) from None

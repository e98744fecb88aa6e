"""Short-lived signed preview tokens: whoever holds one may see one draft version, exactly as it
would be served, until it expires; no staff credentials travel to the preview page."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import msgspec


class PreviewGrant(msgspec.Struct, frozen=True, array_like=True):
    kind: str
    slug: str
    version: int
    expires: int


class PreviewError(ValueError):
    pass


class PreviewSigner:
    def __init__(self, secret: bytes, ttl_seconds: int) -> None:
        self._secret = secret
        self.ttl_seconds = ttl_seconds

    def issue(
        self, kind: str, slug: str, version: int, now: float | None = None
    ) -> tuple[str, int]:
        expires = int((now if now is not None else time.time()) + self.ttl_seconds)
        payload = msgspec.json.encode(PreviewGrant(kind, slug, version, expires))
        return f"{_b64(payload)}.{_b64(self._sign(payload))}", expires

    def verify(self, token: str, now: float | None = None) -> PreviewGrant:
        payload_part, _, signature_part = token.partition(".")
        try:
            payload, signature = _unb64(payload_part), _unb64(signature_part)
        except ValueError:
            raise PreviewError("the preview token is malformed") from None
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise PreviewError("the preview token is not valid")
        grant = msgspec.json.decode(payload, type=PreviewGrant)
        if grant.expires < (now if now is not None else time.time()):
            raise PreviewError("the preview token has expired; ask the editor for a new link")
        return grant

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if not text:
        raise ValueError("empty")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError(str(exc)) from exc

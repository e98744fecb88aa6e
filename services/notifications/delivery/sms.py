"""SMS through a provider's HTTP API, in the shape of Twilio's Messages API (the most common one,
and what most others imitate): `POST {url}/2010-04-01/Accounts/{account}/Messages.json`, a form
body `To`, `From`, `Body`, HTTP basic authentication with the account and its key. Configured by
URL, account and key, so a compatible provider or a test server takes its place.

The local stack writes each SMS as a JSON file instead (`.stack/sms/`), for a developer to read.

A message is identified to the provider by no header of its own (SMS has no Message-ID): a crash
between sending and recording may repeat it, at most once, like an email."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import httpx
import msgspec

from services.notifications.delivery.failure import DeliveryFailed
from services.notifications.domain.model import Composed
from services.notifications.rendering import Rendered

# A provider's refusal of the message itself (a number it cannot reach, a body it refuses):
# retrying the same request cannot succeed. Any other answer (429, 5xx) is retried.
_PERMANENT = frozenset({400, 404, 410, 422})


class SmsApiConfig(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    account: str
    key: str
    sender: str
    timeout: float = 30.0


class ProviderSms:
    """One HTTP client for the process (connections reused), closed with the app."""

    def __init__(self, config: SmsApiConfig) -> None:
        self.config = config
        self._client = httpx.AsyncClient(
            base_url=config.url.rstrip("/"),
            auth=(config.account, config.key),
            timeout=config.timeout,
        )

    async def send(self, message: Composed, rendered: Rendered) -> None:
        path = f"/2010-04-01/Accounts/{self.config.account}/Messages.json"
        form = {"To": message.to, "From": self.config.sender, "Body": rendered.short}
        try:
            response = await self._client.post(path, data=form)
        except httpx.HTTPError as exc:
            # Refused, timed out, dropped: the provider is away, the message is fine.
            raise DeliveryFailed(permanent=False, summary=f"sms {type(exc).__name__}") from None
        if response.is_success:
            return
        raise DeliveryFailed(
            permanent=response.status_code in _PERMANENT,
            summary=f"sms {response.status_code}",
            # The provider's answer may quote the number: kept sealed by the caller.
            reply=response.text[:1000],
        )

    async def close(self) -> None:
        await self._client.aclose()


class SmsSink:
    """The local stack's SMS "provider": each message a JSON file in `folder`, named by the
    notification, written whole (a reader never sees half a file)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, message: Composed, rendered: Rendered) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        record = {
            "notification_id": message.notification_id,
            "to": message.to,
            "language": rendered.language,
            "body": rendered.short,
            "at": datetime.now(UTC).isoformat(),
        }
        final = self.folder / f"{message.notification_id}.json"
        partial = final.with_suffix(".part")
        partial.write_text(json.dumps(record, ensure_ascii=False, indent=1), "utf-8")
        os.replace(partial, final)

    async def close(self) -> None:
        return None

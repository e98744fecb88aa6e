"""The reference partners of the local stack: one per kind, registered in logistics on every
start and run as their own processes, so an inquiry confirmed locally gets its bookings offered,
accepted and completed. Their coverage fits the walkthrough in docs/ (a patient from Ukraine,
landing in Frankfurt for treatment in Bad Nauheim)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from deploy.stack.errors import StackError

# What every local partner does unless the stack's environment says otherwise: accept all, and
# answer and progress quickly enough to watch the whole flow in a few seconds.
BEHAVIOUR_DEFAULTS = {"ACCEPT_RATE": "1", "REPLY_DELAY": "1", "STEP_DELAY": "2"}


@dataclass(frozen=True)
class LocalPartner:
    id: str
    name: str
    kinds: tuple[str, ...]
    airports: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    priority: int = 10

    def registration(self) -> dict[str, Any]:
        """The body of `PUT /v1/partners/{id}` in logistics."""
        return {
            "id": self.id,
            "name": self.name,
            "kinds": list(self.kinds),
            "coverage": {
                "airports": list(self.airports),
                "cities": list(self.cities),
                "countries": list(self.countries),
            },
            "languages": list(self.languages),
            "capabilities": list(self.capabilities),
            "priority": self.priority,
            "active": True,
        }

    def environment(
        self, base: Mapping[str, str], nats: Mapping[str, str], namespace: str
    ) -> dict[str, str]:
        """`nats`: its NATS_URL, NATS_INBOX_PREFIX and PARTNER_CONSUMER (access.py)."""
        return {
            **BEHAVIOUR_DEFAULTS,
            **base,
            **nats,
            "PARTNER_ID": self.id,
            "PARTNER_KINDS": ",".join(self.kinds),
            "NATS_NAMESPACE": namespace,
        }


LOCAL_PARTNERS: tuple[LocalPartner, ...] = (
    LocalPartner(
        id="rhein-shuttle",
        name="Rhein Shuttle GmbH",
        kinds=("transfer",),
        airports=("FRA",),
        cities=("Frankfurt", "Bad Nauheim"),
        countries=("DE",),
        capabilities=("ambulance",),
    ),
    LocalPartner(
        id="medilingua",
        name="MediLingua Dolmetscherdienst",
        kinds=("interpreter",),
        cities=("Frankfurt", "Bad Nauheim"),
        countries=("DE",),
        languages=("uk", "ru", "ar", "en", "de"),
        capabilities=("informed_consent",),
    ),
    LocalPartner(
        id="hessen-pharma-express",
        name="Hessen Pharma Express",
        kinds=("shipment",),
        cities=("Frankfurt", "Bad Nauheim"),
        countries=("DE", "AT", "PL", "UA", "KZ", "GE", "AE"),
        capabilities=("cold_chain",),
    ),
)


async def register_partners(
    logistics_url: str, coordinator_token: str, partners: Sequence[LocalPartner]
) -> None:
    """Create or replace each partner: PUT is idempotent, so every start restores the
    registry entries a developer may have edited or deactivated."""
    headers = {"Authorization": f"Bearer {coordinator_token}"}
    async with httpx.AsyncClient(base_url=logistics_url, headers=headers, timeout=10.0) as client:
        for partner in partners:
            try:
                response = await client.put(
                    f"/v1/partners/{partner.id}", json=partner.registration()
                )
            except httpx.TransportError as exc:
                raise StackError(f"registering partner {partner.id} failed: {exc}") from exc
            if response.status_code not in (200, 201):
                raise StackError(
                    f"logistics refused partner {partner.id} "
                    f"({response.status_code}): {response.text}"
                )


# The reference partner on the webhook channel: a transfer company that runs no NATS client.
# Below Rhein Shuttle in priority, so the walkthrough's transfer goes to it only when Rhein
# Shuttle declines, lets the deadline pass or is deactivated (PATCH /v1/partners/rhein-shuttle).
HTTP_PARTNER = LocalPartner(
    id="taunus-transfer",
    name="Taunus Transfer (webhooks)",
    kinds=("transfer",),
    airports=("FRA",),
    cities=("Frankfurt", "Bad Nauheim"),
    countries=("DE",),
    priority=5,
)


async def register_http_partner(
    logistics_url: str,
    coordinator_token: str,
    partner: LocalPartner,
    url: str,
    known: Mapping[str, Any] | None,
) -> dict[str, str]:
    """Create or replace the partner on the webhook channel at `url`; its credentials are those
    the first registration answered, those `known` from an earlier start, or a rotation's."""
    headers = {"Authorization": f"Bearer {coordinator_token}"}
    body = partner.registration() | {"channel": {"type": "webhook", "url": url}}
    async with httpx.AsyncClient(base_url=logistics_url, headers=headers, timeout=10.0) as client:
        try:
            response = await client.put(f"/v1/partners/{partner.id}", json=body)
            if response.status_code not in (200, 201):
                raise StackError(
                    f"logistics refused partner {partner.id} "
                    f"({response.status_code}): {response.text}"
                )
            issued = response.json().get("credentials")
            if issued is None and known is None:
                # Registered by an earlier stack whose secrets file is gone: new credentials.
                rotated = await client.post(f"/v1/partners/{partner.id}/credentials")
                if rotated.status_code != 201:
                    raise StackError(f"rotating {partner.id}'s credentials: {rotated.text}")
                issued = rotated.json()
        except httpx.TransportError as exc:
            raise StackError(f"registering partner {partner.id} failed: {exc}") from exc
    if issued is None and known is not None:
        return {"signing_secret": known["signing_secret"], "token": known["token"]}
    return {"signing_secret": issued["signing_secret"], "token": issued["token"]}


def http_partner_environment(
    partner: LocalPartner,
    base: Mapping[str, str],
    credentials: Mapping[str, str],
    *,
    logistics_url: str,
    port: int,
) -> dict[str, str]:
    return {
        **BEHAVIOUR_DEFAULTS,
        **base,
        "PARTNER_CHANNEL": "http",
        "PARTNER_ID": partner.id,
        "PARTNER_KINDS": ",".join(partner.kinds),
        "PARTNER_WEBHOOK_SECRET": credentials["signing_secret"],
        "PARTNER_TOKEN": credentials["token"],
        "LOGISTICS_URL": logistics_url,
        "PARTNER_HTTP_PORT": str(port),
    }

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

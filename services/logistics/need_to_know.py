"""What each kind of partner is told about a booking (DESIGN.md rule 6, GDPR Art. 5(1)(c)): a fixed
list of fields per kind, the allow-list, applied where offers are built.

- a driver: the traveller's name and phone, the flight, passengers, luggage, mobility needs and
  where and when to collect and drop them;
- an interpreter: the traveller's name, the languages, the specialty, and the time, place and
  purpose of each session;
- a courier: the shipment's items and the address (with its recipient), and the name on the
  parcel.

A field is written as its path in the offer's `details` (`patient.phone`, `sessions.place`: items
of a list share their path). Every other field of a booking is `WITHHELD`: an offer carries it
empty. A field added to the contracts is in neither list, and `for_partner` refuses to build an
offer until it is placed in one: no new field reaches a partner by default."""

from __future__ import annotations

from typing import Any

import msgspec

from contracts.logistics import BookingDetails, BookingKind

ALLOWED: dict[BookingKind, frozenset[str]] = {
    "transfer": frozenset(
        {
            "kind",
            "flight_number",
            "airport",
            "scheduled_arrival",
            "pickup_at",
            "passengers",
            "luggage",
            "mobility",
            "meeting_point",
            "pickup",
            "dropoff",
            "direction",
            "patient.full_name",
            "patient.phone",
        }
    ),
    "interpreter": frozenset(
        {
            "kind",
            "language_from",
            "language_to",
            "specialty",
            "sessions.date",
            "sessions.start",
            "sessions.duration_minutes",
            "sessions.place",
            "sessions.purpose",
            "patient.full_name",
        }
    ),
    "shipment": frozenset(
        {
            "kind",
            "items.name",
            "items.active_ingredient",
            "items.strength",
            "items.quantity",
            "items.prescription_reference",
            "cold_chain",
            "destination.recipient",
            "destination.street",
            "destination.postal_code",
            "destination.city",
            "destination.country",
            "customs_documents",
            "patient.full_name",
        }
    ),
}

# Known to logistics, kept from the partner: an interpreter works at the clinic and a courier
# hands the parcel to the address's recipient, neither needs the phone; the driver needs no
# language (the phone reaches the traveller), the interpreter has `language_from`.
WITHHELD: dict[BookingKind, frozenset[str]] = {
    "transfer": frozenset({"patient.language"}),
    "interpreter": frozenset({"patient.phone", "patient.language"}),
    "shipment": frozenset({"patient.phone", "patient.language"}),
}


class UnlistedField(Exception):
    """A booking holds a field the allow-lists do not place: a contract grew, this module not."""


def for_partner(details: BookingDetails) -> BookingDetails:
    """`details` with only the fields its kind's partner needs; withheld ones at their empty
    default. Raises UnlistedField for a field in neither list."""
    raw = msgspec.to_builtins(details)
    kind: BookingKind = raw["kind"]
    unlisted = carried(raw) - ALLOWED[kind] - WITHHELD[kind]
    if unlisted:
        raise UnlistedField(f"{kind} details hold unlisted fields: {', '.join(sorted(unlisted))}")
    return msgspec.convert(_keep(raw, ALLOWED[kind], ""), type(details))


def carried(value: Any, prefix: str = "") -> set[str]:
    """The paths of every field of a JSON value that holds something (not null, not empty)."""
    if isinstance(value, dict):
        return {p for k, v in value.items() for p in carried(v, f"{prefix}{k}.")}
    if isinstance(value, list | tuple):
        return {p for item in value for p in carried(item, prefix)}
    if value is None or value == "":
        return set()
    return {prefix.removesuffix(".")}


def _keep(value: Any, allowed: frozenset[str], prefix: str) -> Any:
    if isinstance(value, list | tuple):
        return [_keep(item, allowed, prefix) for item in value]
    if not isinstance(value, dict):
        return value
    kept = {}
    for key, item in value.items():
        path = f"{prefix}{key}"
        if path in allowed:
            kept[key] = item
        elif any(a.startswith(f"{path}.") for a in allowed):
            kept[key] = _keep(item, allowed, f"{path}.")
    return kept

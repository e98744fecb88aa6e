"""The disclosure log: every time personal data of a case leaves a service, to whom, which
fields, when and on what legal basis. Written in the same transaction as what sends the data
(the outbox row of an offer or event, the export's answer), so the log holds a disclosure if
and only if it happened.

The fields are derived from the message actually sent, never listed by hand: a field added to
an offer is logged from the first offer that carries it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import msgspec

from contracts.exports import Disclosure, DisclosureKind, RecipientType
from services.runtime.core.db import Connection

# The legal basis of each kind of disclosure, in one place: the records name it as written here,
# and a change of basis is one reviewed change of this table.
LEGAL_BASES: dict[DisclosureKind, str] = {
    # Logistics offers a booking to a transport company, interpreter or courier.
    "partner_offer": (
        "GDPR Art. 6(1)(b) and 9(2)(a): performance of the travel-care contract, with the "
        "patient's explicit consent to sharing with logistics partners (partner_sharing)"
    ),
    # Inquiries asks logistics to book the services of a confirmed or discharged case.
    "booking_request": (
        "GDPR Art. 6(1)(b) and 9(2)(a): performance of the travel-care contract, with the "
        "patient's explicit consent to sharing with logistics partners (partner_sharing)"
    ),
    # The patient's own export, or an admin's export made on the patient's request.
    "access_export": (
        "GDPR Art. 15 and 20 with Art. 6(1)(c): the data subject's rights of access and to "
        "data portability"
    ),
}


def carried_fields(message: msgspec.Struct) -> tuple[str, ...]:
    """The dotted paths of every field `message` carries a value in, as it goes on the wire;
    the items of a list share one path (`sessions[].place`). A null field carries nothing."""
    return tuple(sorted(set(_paths(msgspec.to_builtins(message), ""))))


def _paths(value: Any, prefix: str) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list | tuple):  # to_builtins keeps a tuple a tuple
        for item in value:
            yield from _paths(item, f"{prefix}[]")
    elif value is not None:
        yield prefix


async def record(
    conn: Connection,
    *,
    inquiry_id: str | None,
    kind: DisclosureKind,
    recipient_type: RecipientType,
    recipient: str,
    fields: tuple[str, ...],
    reference: str | None,
    at: datetime,
) -> Disclosure:
    """Inside the transaction that sends the data."""
    disclosure = Disclosure(
        kind=kind,
        recipient_type=recipient_type,
        recipient=recipient,
        fields=fields,
        legal_basis=LEGAL_BASES[kind],
        reference=reference,
        disclosed_at=at,
    )
    await conn.execute(
        """INSERT INTO disclosure_log (inquiry_id, kind, recipient_type, recipient, fields,
                                       legal_basis, reference, disclosed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        inquiry_id,
        disclosure.kind,
        disclosure.recipient_type,
        disclosure.recipient,
        list(disclosure.fields),
        disclosure.legal_basis,
        disclosure.reference,
        disclosure.disclosed_at,
    )
    return disclosure


async def of_case(conn: Connection, inquiry_id: str) -> list[Disclosure]:
    """The case's disclosures, oldest first."""
    rows = await conn.fetch(
        """SELECT kind, recipient_type, recipient, fields, legal_basis, reference, disclosed_at
           FROM disclosure_log WHERE inquiry_id = $1 ORDER BY id""",
        inquiry_id,
    )
    return [msgspec.convert(dict(r.items()), Disclosure) for r in rows]

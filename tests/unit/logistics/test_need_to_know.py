"""The allow-list of what each kind of partner is told: it places every field of the contracts,
an offer keeps exactly the allowed ones, and a field it does not place stops the offer."""

from __future__ import annotations

from typing import Any, get_args

import msgspec
import pytest

from contracts.logistics import BookingDetails, BookingKind, booking_details_decoder
from services.logistics import need_to_know
from tests.logistics_samples import interpreter, shipment, transfer

SAMPLES: dict[BookingKind, dict[str, Any]] = {
    "transfer": transfer(
        pickup_at="2027-02-03T15:00:00+01:00", meeting_point="Arrivals hall B, exit 3"
    ),
    "interpreter": interpreter(),
    "shipment": shipment(customs_documents=["invoice"], cold_chain=True),
}


def details(kind: str, body: dict[str, Any]) -> BookingDetails:
    return booking_details_decoder.decode(msgspec.json.encode({"kind": kind, **body}))


def contract_paths(info: msgspec.inspect.Type, prefix: str = "") -> set[str]:
    """Every leaf field path a type can hold, read from the contract itself."""
    match info:
        case msgspec.inspect.StructType():
            paths = {f"{prefix}{info.cls.__struct_config__.tag_field}"}
            paths.discard(prefix + "None")
            for field in info.fields:
                paths |= contract_paths(field.type, f"{prefix}{field.name}.")
            return paths
        case msgspec.inspect.UnionType():
            return {p for t in info.types for p in contract_paths(t, prefix)}
        case msgspec.inspect.VarTupleType() | msgspec.inspect.ListType():
            return contract_paths(info.item_type, prefix)
        case msgspec.inspect.NoneType():
            return set()
        case _:
            return {prefix.removesuffix(".")}


@pytest.mark.parametrize("cls", get_args(BookingDetails))
def test_every_field_of_the_contracts_is_either_allowed_or_withheld(cls: type[Any]) -> None:
    kind = cls.__struct_config__.tag

    fields = contract_paths(msgspec.inspect.type_info(cls))

    assert need_to_know.ALLOWED[kind] | need_to_know.WITHHELD[kind] == fields
    assert not need_to_know.ALLOWED[kind] & need_to_know.WITHHELD[kind]


@pytest.mark.parametrize("kind", SAMPLES)
def test_an_offer_carries_exactly_the_allowed_fields_unchanged(kind: BookingKind) -> None:
    booking = details(kind, SAMPLES[kind])
    assert need_to_know.carried(msgspec.to_builtins(booking)) & need_to_know.WITHHELD[kind]

    offered = need_to_know.for_partner(booking)

    wire = msgspec.to_builtins(offered)
    assert need_to_know.carried(wire) == need_to_know.ALLOWED[kind]
    assert offered.patient.language is None
    # Only the traveller's contact is withheld: everything else is as booked.
    assert msgspec.structs.replace(offered, patient=booking.patient) == booking


def test_the_driver_gets_the_phone_and_the_interpreter_and_the_courier_do_not() -> None:
    ride, talk, parcel = (need_to_know.for_partner(details(k, SAMPLES[k])) for k in SAMPLES)

    assert ride.patient.phone == "+380501234567"
    assert talk.patient.phone is None
    assert parcel.patient.phone is None
    assert parcel.destination.recipient == "Olena Kovalenko"  # type: ignore[union-attr]


def test_a_field_the_lists_do_not_place_stops_the_offer(monkeypatch: pytest.MonkeyPatch) -> None:
    # As if Traveller had grown `language` today: a field no list names yet.
    monkeypatch.setitem(need_to_know.WITHHELD, "transfer", frozenset())

    with pytest.raises(need_to_know.UnlistedField, match=r"patient\.language"):
        need_to_know.for_partner(details("transfer", SAMPLES["transfer"]))

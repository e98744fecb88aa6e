"""Offers as logistics sends them to partners, one per kind, for the partner tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from contracts.logistics import (
    Address,
    BookingDetails,
    BookingKind,
    InterpreterDetails,
    InterpreterSession,
    MedicineItem,
    ShipmentDetails,
    TransferDetails,
    Traveller,
)
from contracts.partners import Offer

TRAVELLER = Traveller(full_name="Olha Petrenko", phone="+380501234567", language="uk")


def details(kind: BookingKind, *, mobility: str = "wheelchair") -> BookingDetails:
    if kind == "transfer":
        return TransferDetails(
            flight_number="LH1491",
            airport="FRA",
            scheduled_arrival=datetime(2027, 2, 3, 13, 25, tzinfo=UTC),
            passengers=2,
            luggage=3,
            mobility=mobility,  # type: ignore[arg-type]
            pickup="Terminal 1, arrivals hall B",
            dropoff="Kerckhoff-Klinik, Benekestr. 2-8, Bad Nauheim",
            patient=TRAVELLER,
        )
    if kind == "interpreter":
        return InterpreterDetails(
            language_from="uk",
            specialty="cardiology",
            sessions=(
                InterpreterSession(
                    date=date(2027, 2, 4),
                    start=time(9, 0),
                    duration_minutes=90,
                    place="Kerckhoff-Klinik, Bad Nauheim",
                    purpose="informed_consent",
                ),
            ),
            patient=TRAVELLER,
        )
    return ShipmentDetails(
        items=(
            MedicineItem(
                name="Eliquis",
                active_ingredient="apixaban",
                strength="5 mg",
                quantity=60,
            ),
        ),
        destination=Address(
            recipient="Olha Petrenko",
            street="vul. Khreshchatyk 1",
            postal_code="01001",
            city="Kyiv",
            country="UA",
        ),
        patient=TRAVELLER,
    )


def offer(
    kind: BookingKind = "transfer",
    *,
    respond_by: datetime | None = None,
    booking_id: str | None = None,
    mobility: str = "wheelchair",
) -> Offer:
    return Offer(
        offer_id=str(uuid.uuid4()),
        booking_id=booking_id or str(uuid.uuid4()),
        kind=kind,
        respond_by=respond_by or datetime.now(UTC) + timedelta(hours=1),
        details=details(kind, mobility=mobility),
    )

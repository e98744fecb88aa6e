"""Commands a coordinator sends, built for the inquiries tests (domain and use cases alike):
an offer, a travel plan and a confirmation that keep every rule at `now`."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.inquiries.domain.commands import (
    Advance,
    ArrivalFlight,
    Clinic,
    Confirmation,
    CostItem,
    OfferForm,
    Payer,
    Programme,
    ServicesPlan,
    TravelPlan,
)


def offer(valid_until: datetime) -> OfferForm:
    return OfferForm(
        programmes=(
            Programme(
                title="Mitral valve repair",
                clinic="Herzzentrum",
                physician="Dr. Weber",
                procedures=("repair",),
                length_of_stay_days=10,
                items=(CostItem(description="surgery", amount="20000.00"),),
                total="20000.00",
                advance="5000.00",
            ),
        ),
        valid_until=valid_until,
    )


def plan(now: datetime, services: ServicesPlan) -> TravelPlan:
    """Arrival in 60 days, ten days in the clinic."""
    return TravelPlan(
        arrival=ArrivalFlight(
            flight_number="LH1491", airport="FRA", scheduled_arrival=now + timedelta(days=60)
        ),
        clinic=Clinic(name="Herzzentrum", address="Klinikweg 1, Frankfurt"),
        admission=(now + timedelta(days=61)).date(),
        discharge=(now + timedelta(days=71)).date(),
        services=services,
    )


def confirmation(now: datetime, services: ServicesPlan) -> Confirmation:
    """The advance paid today, and the plan above."""
    return Confirmation(
        payment=Advance(
            amount="5000.00",
            paid_on=now.date(),
            reference="INV-1",
            payer=Payer(relation="self", name="Olena Kovalenko"),
        ),
        plan=plan(now, services),
    )

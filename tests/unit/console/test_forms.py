"""The console's forms become the inquiries API's requests: totals checked as the API checks
them, times sent with the clinic's offset, optional parts left out when empty."""

from __future__ import annotations

import pytest

from services.console.domain.forms import (
    FormProblem,
    confirmation_request,
    discharge_request,
    offer_request,
)

OFFER = {
    "title": "Mitral valve repair",
    "clinic": "Kerckhoff-Klinik",
    "physician": "Prof. Dr. A. Weber",
    "procedures": "echocardiography\n\nmitral valve repair\n",
    "length_of_stay_days": "10",
    "items": "diagnostics: 1500\nsurgery and stay: 20000.00",
    "total": "21500",
    "advance": "5000,00",
    "valid_until": "2027-01-31T23:59",
}


def test_an_offer_form_becomes_one_programme_with_amounts_to_the_cent() -> None:
    body = offer_request(OFFER)
    (programme,) = body["programmes"]
    assert programme["procedures"] == ["echocardiography", "mitral valve repair"]
    assert programme["items"] == [
        {"description": "diagnostics", "amount": "1500.00"},
        {"description": "surgery and stay", "amount": "20000.00"},
    ]
    assert (programme["total"], programme["advance"]) == ("21500.00", "5000.00")
    # Winter in Germany: CET.
    assert body["valid_until"] == "2027-01-31T23:59:00+01:00"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"total": "21000"}, "total is 21000.00 but the items add up to 21500.00"),
        ({"advance": "30000"}, "advance exceeds the total"),
        ({"items": "diagnostics 1500"}, "is not 'description: amount'"),
        ({"total": "a lot"}, "total must be an amount"),
        ({"title": " "}, "title is required"),
        ({"valid_until": "soon"}, "valid_until must be a date and time"),
        ({"length_of_stay_days": "ten"}, "length_of_stay_days must be a whole number"),
    ],
)
def test_a_wrong_offer_form_names_the_field_to_correct(
    change: dict[str, str], problem: str
) -> None:
    with pytest.raises(FormProblem, match=problem):
        offer_request({**OFFER, **change})


CONFIRMATION = {
    "payment_kind": "advance",
    "payment_amount": "5000",
    "payment_date": "2026-11-20",
    "payment_reference": "SEPA-1",
    "payer_relation": "relative",
    "payer_name": "Taras Kovalenko",
    "flight_number": "LH1491",
    "airport": "FRA",
    "scheduled_arrival": "2027-06-01T14:35",
    "clinic_name": "Kerckhoff-Klinik",
    "clinic_address": "Benekestr. 2-8",
    "admission": "2027-06-02",
    "discharge": "2027-06-12",
}


def test_a_confirmation_books_only_the_services_ticked() -> None:
    body = confirmation_request({**CONFIRMATION, "support": "on"})
    assert body["payment"]["paid_on"] == "2026-11-20"
    assert body["plan"]["services"] == {"support": True}
    # Summer: CEST.
    assert body["plan"]["arrival"]["scheduled_arrival"] == "2027-06-01T14:35:00+02:00"
    ticked = confirmation_request(
        {
            **CONFIRMATION,
            "payment_kind": "guarantee",
            "transfer": "on",
            "passengers": "2",
            "luggage": "3",
            "mobility": "wheelchair",
        }
    )
    assert ticked["payment"]["issued_on"] == "2026-11-20"
    assert ticked["plan"]["services"]["transfer"] == {
        "passengers": 2,
        "luggage": 3,
        "mobility": "wheelchair",
    }


def test_a_discharge_without_medicine_flight_or_address_sends_only_fit_to_fly() -> None:
    assert discharge_request({"fit_to_fly": "2027-02-13"}) == {
        "fit_to_fly": "2027-02-13",
        "medication": {"items": [], "cold_chain": False},
    }

"""The reference partner's settings: named variables, checked bounds."""

from __future__ import annotations

import pytest

from services.partner.app import PartnerSettings
from services.runtime.core.settings import SettingsError, load_settings


def test_kinds_are_a_comma_separated_list_and_defaults_fill_the_rest() -> None:
    settings = load_settings(
        PartnerSettings,
        environ={"PARTNER_ID": "rhein-shuttle", "PARTNER_KINDS": "transfer,shipment"},
    )

    assert settings.kinds == ("transfer", "shipment")
    assert (settings.accept_rate, settings.random_seed) == (1.0, None)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "PARTNER_ID is required but not set"),
        ({"PARTNER_ID": "Rhein Shuttle"}, "PARTNER_ID is invalid"),
        ({"PARTNER_ID": "p", "PARTNER_KINDS": "transfer,taxi"}, "PARTNER_KINDS is invalid"),
        ({"PARTNER_ID": "p", "ACCEPT_RATE": "1.5"}, "ACCEPT_RATE is invalid"),
        ({"PARTNER_ID": "p", "REPLY_DELAY": "-1"}, "REPLY_DELAY is invalid"),
        ({"PARTNER_ID": "p", "REPLY_DELAY": "40"}, "REPLY_DELAY is invalid"),
        ({"PARTNER_ID": "p", "RANDOM_SEED": "x"}, "RANDOM_SEED is invalid"),
    ],
)
def test_a_bad_value_names_its_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(PartnerSettings, environ=env)

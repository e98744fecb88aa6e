"""The configuration reference is generated from the settings Structs, and the checked-in page
is what the generator writes today. No servers needed."""

from __future__ import annotations

import msgspec
import pytest

from deploy import settings_reference
from deploy.settings_reference import DESCRIPTIONS, PAGE, main, render
from services.runtime.core.settings import ServiceSettings


def test_the_checked_in_configuration_page_is_what_the_settings_structs_say() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), "run make docs-config"


def test_every_setting_of_every_service_is_on_the_page() -> None:
    page = render()
    for field in msgspec.structs.fields(ServiceSettings):
        assert f"| `{field.encode_name}` |" in page
    for variable in ("INQUIRIES_ENCRYPTION_KEYS", "OFFER_TIMEOUT", "PREVIEW_TTL", "PARTNER_ID"):
        assert f"| `{variable}` |" in page


def test_a_setting_without_a_description_stops_the_generator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        settings_reference, "DESCRIPTIONS", {k: v for k, v in DESCRIPTIONS.items() if k != "PORT"}
    )
    with pytest.raises(SystemExit, match="PORT has no description"):
        render()


def test_a_description_of_a_setting_that_is_gone_stops_the_generator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings_reference, "DESCRIPTIONS", {**DESCRIPTIONS, "GONE": "no more"})
    with pytest.raises(SystemExit, match="no setting is named GONE"):
        main(["--check"])

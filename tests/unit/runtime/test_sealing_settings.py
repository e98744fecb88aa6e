"""The key-ring settings block every sealing service shares (runtime/privacy/sealing.py)."""

from __future__ import annotations

import pytest

from services.inquiries.app import InquiriesSettings
from services.logistics.app import LogisticsSettings
from services.runtime.core.settings import SettingsError, as_environ, load_settings
from services.runtime.privacy.crypto import KeyRing

BASE = {"DATABASE_URL": "postgresql://127.0.0.1/x"}


@pytest.mark.parametrize(
    ("cls", "variable"),
    [(InquiriesSettings, "INQUIRIES"), (LogisticsSettings, "LOGISTICS")],
)
def test_each_service_reads_its_ring_from_variables_named_for_it(
    cls: type[InquiriesSettings | LogisticsSettings], variable: str
) -> None:
    ring = KeyRing.generate_setting("k1") + "," + KeyRing.generate_setting("k2")
    env = BASE | {f"{variable}_ENCRYPTION_KEYS": ring, f"{variable}_ACTIVE_KEY": "k1"}
    settings = load_settings(cls, environ=env, port=1)
    assert settings.key_ring().active == "k1"
    assert settings.outbox_keys().active == "k1"
    # Another service's variable opens nothing here: the ring is still required.
    other = "LOGISTICS" if variable == "INQUIRIES" else "INQUIRIES"
    with pytest.raises(SettingsError, match=f"^{variable}_ENCRYPTION_KEYS is required"):
        load_settings(cls, environ=BASE | {f"{other}_ENCRYPTION_KEYS": ring}, port=1)


def test_a_bad_ring_stops_the_settings_naming_the_service_variable() -> None:
    env = BASE | {"INQUIRIES_ENCRYPTION_KEYS": "k1:short"}
    with pytest.raises(SettingsError, match=r"^INQUIRIES_ENCRYPTION_KEYS is invalid"):
        load_settings(InquiriesSettings, environ=env, port=1)


def test_settings_as_environ_build_the_same_settings_again() -> None:
    env = BASE | {"LOGISTICS_ENCRYPTION_KEYS": KeyRing.generate_setting("k1"), "OFFER_TIMEOUT": "7"}
    settings = load_settings(LogisticsSettings, environ=env, port=9)
    environ = as_environ(settings)
    assert environ["LOGISTICS_ENCRYPTION_KEYS"] == env["LOGISTICS_ENCRYPTION_KEYS"]
    assert "ENCRYPTION_KEYS" not in environ
    assert load_settings(LogisticsSettings, environ=environ) == settings

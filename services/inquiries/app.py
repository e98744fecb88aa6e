"""Wiring of the inquiries service."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import msgspec
from litestar import Litestar
from litestar.di import Provide

from services.inquiries import consumers
from services.inquiries.api.casework import CoordinatorController
from services.inquiries.api.intake import IntakeController
from services.inquiries.api.notices import ConsentNoticeController
from services.inquiries.api.offers import CoordinatorOfferController, PatientOfferController
from services.inquiries.api.patient_access import SECURITY_SCHEMES
from services.inquiries.api.privacy import ConsentController, ErasureController, ExportController
from services.inquiries.api.proof_of_work import ProofOfWorkController
from services.inquiries.api.recovery import TokenRecoveryController
from services.inquiries.api.retention import RetentionController
from services.inquiries.api.widget import get_widget_file
from services.inquiries.domain.retention import Periods
from services.inquiries.usecases.privacy.erasure import Erasing
from services.inquiries.usecases.privacy.export import Exporter
from services.inquiries.usecases.proof_of_work import ProofOfWork
from services.runtime.core.settings import PositiveFloat, PositiveInt
from services.runtime.privacy.sealing import SealingSettings, sealing_fields
from services.runtime.service.definition import ServiceDefinition
from services.runtime.service.factory import create_service_app
from services.runtime.service.heap import set_aside_after_startup
from services.runtime.service.running import RuntimeDependency


class InquiriesSettings(SealingSettings, frozen=True, kw_only=True, rename="upper"):
    encryption_keys: str = sealing_fields("inquiries").keys
    active_key: str = sealing_fields("inquiries").active
    # Retention per data class (see usecases/privacy/retention.py), applied every interval
    # seconds: the personal and health data of a case closed longer than this is erased...
    inquiries_retention_days: Annotated[int, msgspec.Meta(ge=1, le=36500)] = 365
    # ...its coordinators' notes and free-text reasons sooner...
    inquiries_free_text_retention_days: Annotated[int, msgspec.Meta(ge=1, le=36500)] = 90
    # ...and the billing stub an erasure keeps, after the accounting period: years after the end
    # of the year of erasure (10: HGB §257(4), AO §147(3)).
    inquiries_billing_retention_years: Annotated[int, msgspec.Meta(ge=1, le=30)] = 10
    inquiries_retention_interval: PositiveFloat = 3600.0
    # How often the scheduler looks for offers past their validity.
    offer_expiry_interval: PositiveFloat = 30.0
    # Seconds the export waits for each other service's part (logistics, support,
    # notifications; asked at once) before answering 503. Named when logistics was the only one.
    logistics_export_timeout: PositiveFloat = 5.0
    # Signs the proof-of-work challenges of browser submissions (ALTCHA); replicas must share
    # one. Empty: random per process.
    altcha_hmac_key: str = ""
    # PBKDF2 iterations of one attempt at a challenge (a browser makes about 256 attempts),
    # how long a challenge may be solved and sent, and browser submissions an hour per visitor
    # of one site.
    altcha_cost: PositiveInt = 5000
    altcha_ttl: PositiveFloat = 600.0
    browser_submissions_per_visitor: PositiveInt = 10

    def proof_of_work(self) -> ProofOfWork:
        return ProofOfWork(
            hmac_key=self.altcha_hmac_key.encode() or secrets.token_bytes(32),
            cost=self.altcha_cost,
            ttl=timedelta(seconds=self.altcha_ttl),
            per_visitor=self.browser_submissions_per_visitor,
        )

    def retention_periods(self) -> Periods:
        return Periods(
            personal_data_days=self.inquiries_retention_days,
            free_text_days=self.inquiries_free_text_retention_days,
            billing_years=self.inquiries_billing_retention_years,
        )


DEFINITION = ServiceDefinition(
    name="inquiries",
    title="Carebridge inquiries API",
    description=(
        "Patient treatment inquiries from third-party sites, and the coordinators' case workflow."
    ),
    default_port=8002,
    migrations=Path(__file__).parent / "migrations",
    route_handlers=(
        IntakeController,
        ConsentNoticeController,
        ProofOfWorkController,
        TokenRecoveryController,
        PatientOfferController,
        ConsentController,
        CoordinatorController,
        CoordinatorOfferController,
        ErasureController,
        ExportController,
        RetentionController,
        get_widget_file,
    ),
    settings_type=InquiriesSettings,
)


def create_app(settings: InquiriesSettings) -> Litestar:
    keys = settings.key_ring()
    exporter = Exporter(keys=keys, timeout=settings.logistics_export_timeout)
    periods = settings.retention_periods()
    proof = settings.proof_of_work()

    def erasing(runtime: RuntimeDependency) -> Erasing:
        return Erasing(
            outbox=runtime.outbox, keys=keys, billing_retention_years=periods.billing_years
        )

    # The booking timeline seals what partners reported for the patient with the case's keys.
    definition = dataclasses.replace(
        DEFINITION, subscriptions=lambda _: consumers.subscriptions(keys)
    )
    return create_service_app(
        definition,
        settings,
        dependencies={
            "keys": Provide(lambda: keys, sync_to_thread=False),
            "exporter": Provide(lambda: exporter, sync_to_thread=False),
            "erasing": Provide(erasing, sync_to_thread=False),
            "retention_periods": Provide(lambda: periods, sync_to_thread=False),
            "proof": Provide(lambda: proof, sync_to_thread=False),
        },
        security_schemes=SECURITY_SCHEMES,
        background=(
            ("offer-expiry", consumers.offer_expiry(settings.offer_expiry_interval)),
            (
                "retention",
                consumers.retention_loop(periods, settings.inquiries_retention_interval, keys),
            ),
            ("contact-answers", consumers.contact_answers(keys)),
            ("token-checks", consumers.token_checks()),
        ),
    )


def app_from_env() -> Litestar:
    """The factory granian calls in each worker."""
    settings = DEFINITION.load_settings()
    if not isinstance(settings, InquiriesSettings):  # settings_type above makes this impossible
        raise TypeError(type(settings))
    return set_aside_after_startup(create_app(settings))

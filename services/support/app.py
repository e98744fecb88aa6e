"""Wiring of the support service."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from pathlib import Path

from litestar import Litestar
from litestar.di import Provide

from contracts.registry import TOKEN_CHECK
from contracts.support import (
    TokenChecked,
    TokenCheckFailed,
    TokenCheckRequest,
    token_check_reply_decoder,
)
from services.runtime.core.errors import Unavailable
from services.runtime.core.settings import PositiveFloat, PositiveInt
from services.runtime.messaging.request_reply import NoAnswer, ask
from services.runtime.privacy.sealing import SealingSettings, sealing_fields
from services.runtime.service.definition import ServiceDefinition
from services.runtime.service.factory import create_service_app
from services.runtime.service.heap import set_aside_after_startup
from services.runtime.service.running import Runtime, RuntimeDependency
from services.support import consumers
from services.support.api.desk import DeskController, RotaController
from services.support.api.patients import SECURITY_SCHEMES, PatientCaseController
from services.support.domain.emergency import LANGUAGES
from services.support.usecases import Desk

# Seconds a patient is told to wait before trying again when inquiries cannot check a token.
RETRY_AFTER = 5


class SupportSettings(SealingSettings, frozen=True, kw_only=True, rename="upper"):
    encryption_keys: str = sealing_fields("support").keys
    active_key: str = sealing_fields("support").active
    # What the first answer to a medical case tells the patient to call: 112 answers across
    # the EU; the clinic's line is added when set.
    support_emergency_number: str = "112"
    support_clinic_phone: str = ""
    # The escalation loop: how often it looks for missed deadlines, how many it takes at once.
    support_escalation_interval: PositiveFloat = 1.0
    support_escalation_batch: PositiveInt = 50
    # Seconds to wait for inquiries' answer whether a patient's token opens their inquiry.
    support_token_check_timeout: PositiveFloat = 5.0
    # Seconds between readings of the desk's figures for /metrics.
    support_figures_interval: PositiveFloat = 30.0


DEFINITION = ServiceDefinition(
    name="support",
    title="Carebridge support API",
    description=(
        "The round-the-clock support desk: cases from patients (with their access token), "
        "partners, coordinators and the system; an on-call rota; response targets per priority "
        "and escalation when a case is not acknowledged in time. Emergency answers in "
        f"{', '.join(LANGUAGES)}."
    ),
    default_port=8004,
    migrations=Path(__file__).parent / "migrations",
    route_handlers=(PatientCaseController, DeskController, RotaController),
    settings_type=SupportSettings,
)


def create_app(settings: SupportSettings) -> Litestar:
    keys = settings.key_ring()
    # The routes and the loops share one desk per process, made once the runtime is up.
    made: dict[str, Desk] = {}

    def desk_of(runtime: Runtime) -> Desk:
        if "desk" not in made:

            async def check_token(inquiry_id: str, token: str) -> bool:
                digest = hashlib.sha256(token.encode()).hexdigest()
                try:
                    reply = await ask(
                        runtime.bus,
                        TOKEN_CHECK,
                        TokenCheckRequest(inquiry_id=inquiry_id, token_sha256=digest),
                        token_check_reply_decoder,
                        timeout=settings.support_token_check_timeout,
                    )
                except NoAnswer as exc:
                    raise Unavailable(str(exc), retry_after=RETRY_AFTER) from None
                match reply:
                    case TokenChecked():
                        return reply.valid and reply.inquiry_id == inquiry_id
                    case TokenCheckFailed():
                        raise Unavailable(
                            "inquiries could not check the access token", retry_after=RETRY_AFTER
                        )

            made["desk"] = Desk(
                pool=runtime.pool,
                outbox=runtime.outbox,
                keys=keys,
                check_token=check_token,
                emergency_number=settings.support_emergency_number,
                clinic_phone=settings.support_clinic_phone or None,
            )
        return made["desk"]

    async def escalations(runtime: Runtime, stop: asyncio.Event) -> None:
        run = consumers.escalations(
            desk_of(runtime),
            interval=settings.support_escalation_interval,
            batch=settings.support_escalation_batch,
        )
        await run(stop)

    shown: list[consumers.Figures] = []

    async def figures(runtime: Runtime, stop: asyncio.Event) -> None:
        run = consumers.figures(
            desk_of(runtime), shown[0], interval=settings.support_figures_interval
        )
        await run(stop)

    async def case_exports(runtime: Runtime, stop: asyncio.Event) -> None:
        await consumers.case_exports(desk_of(runtime), runtime.bus)(stop)

    def desk_dependency(runtime: RuntimeDependency) -> Desk:
        return desk_of(runtime)

    definition = dataclasses.replace(
        DEFINITION, subscriptions=lambda runtime: consumers.subscriptions(desk_of(runtime))
    )
    app = create_service_app(
        definition,
        settings,
        dependencies={"desk": Provide(desk_dependency, sync_to_thread=False)},
        security_schemes=SECURITY_SCHEMES,
        background=(
            ("escalations", escalations),
            ("figures", figures),
            ("case-exports", case_exports),
        ),
    )
    # On the app's own registry, made with it: the loop above only sets them.
    shown.append(consumers.Figures(app.state.metrics.registry))
    return app


def app_from_env() -> Litestar:
    """The factory granian calls in each worker."""
    settings = DEFINITION.load_settings()
    if not isinstance(settings, SupportSettings):  # settings_type above makes this impossible
        raise TypeError(type(settings))
    return set_aside_after_startup(create_app(settings))

"""HTTP doors to the partner registry: coordinators register partners, replace them, and
activate or deactivate them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from contracts.logistics import BookingKind, Country, Iata, Language, Line, Name, PartnerId
from services.logistics import domain, usecases
from services.logistics.api import BookingCollaboratorsDependency
from services.runtime.access.staff import staff_only
from services.runtime.core.errors import BadRequest, FieldProblem
from services.runtime.http.json_input import json_body
from services.runtime.http.validation import Form, decode_all_problems
from services.runtime.service.running import RuntimeDependency

# A partner's coverage and skills, each a short list: bounded, as every list in a Form is.
MAX_LISTED = 200


class CoverageForm(Form, frozen=True, kw_only=True):
    airports: Annotated[tuple[Iata, ...], msgspec.Meta(max_length=MAX_LISTED)] = ()
    cities: Annotated[tuple[Line, ...], msgspec.Meta(max_length=MAX_LISTED)] = ()
    countries: Annotated[tuple[Country, ...], msgspec.Meta(max_length=MAX_LISTED)] = ()


class NatsChannelForm(Form, frozen=True, kw_only=True, tag_field="type", tag="nats"):
    pass


class WebhookChannelForm(Form, frozen=True, kw_only=True, tag_field="type", tag="webhook"):
    # https, outside private address ranges (checked again, resolved, at every send).
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class PartnerForm(Form, frozen=True, kw_only=True):
    name: Name
    kinds: Annotated[tuple[BookingKind, ...], msgspec.Meta(min_length=1)]
    coverage: CoverageForm = CoverageForm()
    languages: Annotated[tuple[Language, ...], msgspec.Meta(max_length=MAX_LISTED)] = ()
    capabilities: Annotated[tuple[domain.Capability, ...], msgspec.Meta(max_length=MAX_LISTED)] = ()
    # Higher goes first.
    priority: Annotated[int, msgspec.Meta(ge=-1000, le=1000)] = 0
    active: bool = True
    channel: NatsChannelForm | WebhookChannelForm = msgspec.field(default_factory=NatsChannelForm)


class NewPartner(PartnerForm, frozen=True, kw_only=True):
    id: PartnerId


class ReplacePartner(PartnerForm, frozen=True, kw_only=True):
    # Optional here: the path names the partner; if given it must agree.
    id: PartnerId | None = None


class PartnerActive(Form, frozen=True, kw_only=True):
    active: bool


class RegisteredPartner(domain.Partner, frozen=True, kw_only=True):
    """The partner as registered; `credentials` only in the answer that issued them (a webhook
    partner's first registration), never again: keep them."""

    credentials: usecases.Credentials | None = None


PARTNER_BODY = (
    'Body: {"id", "name", "kinds": ["transfer" | "interpreter" | "shipment"], "coverage": '
    '{"airports": IATA codes, "cities", "countries": ISO codes}, "languages": ISO 639 codes '
    '(interpreters: both of a pair), "capabilities": ["ambulance" | "informed_consent" | '
    '"cold_chain"], "priority": higher first, "active", "channel": {"type": "nats"} (the '
    'default) or {"type": "webhook", "url": "https://…"}}. Every problem is reported at once '
    "(400). A partner's first registration on the webhook channel answers, once, its "
    "`credentials`: the `whsec_…` secret its webhooks are signed with, and the token of the "
    "reply API (POST /v1/partners/{id}/credentials rotates them)."
)


def _partner(partner_id: str, form: PartnerForm) -> domain.Partner:
    return domain.Partner(
        id=partner_id,
        name=form.name,
        kinds=form.kinds,
        coverage=domain.Coverage(
            airports=form.coverage.airports,
            cities=form.coverage.cities,
            countries=form.coverage.countries,
        ),
        languages=form.languages,
        capabilities=form.capabilities,
        priority=form.priority,
        active=form.active,
        channel=(
            domain.WebhookChannel(url=form.channel.url)
            if isinstance(form.channel, WebhookChannelForm)
            else domain.NatsChannel()
        ),
    )


def _registered(partner: domain.Partner, issued: usecases.Credentials | None) -> RegisteredPartner:
    return RegisteredPartner(**msgspec.structs.asdict(partner), credentials=issued)


class PartnerController(Controller):
    path = "/v1/partners"
    tags = ("partners",)

    @post(
        "/",
        summary="Register a partner (409 if the id exists; PUT replaces)",
        description=PARTNER_BODY,
        status_code=201,
        **staff_only("coordinator"),
    )
    async def register_partner(
        self, request: Request[Any, Any, Any], bookings: BookingCollaboratorsDependency
    ) -> RegisteredPartner:
        form = decode_all_problems(await json_body(request), NewPartner)
        partner = _partner(form.id, form)
        issued = await usecases.register_partner(
            bookings.pool,
            partner,
            now=datetime.now(UTC),
            keys=bookings.keys,
            policy=bookings.webhooks,
        )
        return _registered(partner, issued)

    @put(
        "/{partner_id:str}",
        summary="Create or replace a partner (idempotent: a stack registers its partners on start)",
        description=PARTNER_BODY,
        **staff_only("coordinator"),
    )
    async def replace_partner(
        self,
        request: Request[Any, Any, Any],
        bookings: BookingCollaboratorsDependency,
        partner_id: FromPath[PartnerId],
    ) -> Response[RegisteredPartner]:
        form = decode_all_problems(await json_body(request), ReplacePartner)
        if form.id is not None and form.id != partner_id:
            raise BadRequest(
                [
                    FieldProblem(
                        field="id", message=f"is {form.id!r} but the path names {partner_id!r}"
                    )
                ]
            )
        partner = _partner(partner_id, form)
        created, issued = await usecases.put_partner(
            bookings.pool,
            partner,
            now=datetime.now(UTC),
            keys=bookings.keys,
            policy=bookings.webhooks,
        )
        return Response(_registered(partner, issued), status_code=201 if created else 200)

    @get("/", summary="List partners, highest priority first", **staff_only("coordinator"))
    async def list_partners(
        self,
        runtime: RuntimeDependency,
        kind: FromQuery[BookingKind | None] = None,
        active: FromQuery[bool | None] = None,
    ) -> list[domain.Partner]:
        return await usecases.partners_listed(runtime.pool, kind=kind, active=active)

    @get("/{partner_id:str}", summary="One partner", **staff_only("coordinator"))
    async def get_partner(
        self, runtime: RuntimeDependency, partner_id: FromPath[str]
    ) -> domain.Partner:
        return await usecases.partner(runtime.pool, partner_id)

    @patch(
        "/{partner_id:str}",
        summary="Activate or deactivate a partner: an inactive one is offered nothing new",
        **staff_only("coordinator"),
    )
    async def set_partner_active(
        self, runtime: RuntimeDependency, partner_id: FromPath[str], data: JSONBody[PartnerActive]
    ) -> domain.Partner:
        return await usecases.set_partner_active(
            runtime.pool, partner_id, data.active, now=datetime.now(UTC)
        )

    @post(
        "/{partner_id:str}/credentials",
        summary="Rotate a webhook partner's signing secret and reply-API token",
        description=(
            "Answers, once, new credentials. The current ones keep working until "
            "`previous_valid_until` (PARTNER_CREDENTIAL_OVERLAP), and webhooks are signed with "
            "both secrets meanwhile, so the partner switches without losing a message. 409 for "
            "a partner on the NATS channel."
        ),
        status_code=201,
        **staff_only("coordinator"),
    )
    async def rotate_credentials(
        self, bookings: BookingCollaboratorsDependency, partner_id: FromPath[str]
    ) -> usecases.Credentials:
        return await usecases.rotate_credentials(bookings, partner_id, now=datetime.now(UTC))

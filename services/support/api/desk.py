"""HTTP doors for staff: coordinators keep the rota and the targets (a case for a patient on the
phone they open at the patient's door, `POST /v1/support/cases`, with their staff token);
support agents work the cases (acknowledge, reply, resolve)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, get_args

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, FromQuery, QueryParameter

from contracts.envelope import AwareDatetime
from contracts.support import Priority
from services.runtime.access import audit
from services.runtime.access.staff import Principal, staff_only
from services.runtime.core.errors import BadRequest, FieldProblem, NotFound
from services.runtime.http.json_input import json_body
from services.runtime.http.validation import decode_all_problems
from services.runtime.service.running import RuntimeDependency
from services.support import usecases
from services.support.api.forms import AgentForm, MessageForm, PolicyForm, RotaForm
from services.support.api.patients import DeskDependency
from services.support.domain.model import Agent, Case, CaseView, OnCall, Policy, Shift
from services.support.store.cases import PriorityStats

MAX_LIMIT = 200
PRIORITIES: tuple[str, ...] = get_args(Priority)


def _person(request: Request[Any, Any, Any]) -> str:
    principal: Principal = request.state.principal
    return principal.person


class DeskController(Controller):
    path = "/v1/support/desk"
    tags = ("support",)

    @get("/cases", summary="Cases not yet resolved, urgent first", **staff_only("support_agent"))
    async def open_cases(
        self,
        desk: DeskDependency,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = 50,
    ) -> list[Case]:
        return await usecases.open_cases(desk, limit)

    @get(
        "/cases/{case_id:uuid}",
        summary="A case, its timeline and its thread",
        description="Each read is recorded in the audit log with the case's inquiry: the thread "
        "holds what the patient wrote.",
        **audit.reads(staff_only("support_agent")),
    )
    async def get_desk_case(
        self, request: Request[Any, Any, Any], desk: DeskDependency, case_id: FromPath[uuid.UUID]
    ) -> CaseView:
        view = await usecases.case_view(desk, case_id)
        audit.concerns(request.state, [view.inquiry_id])
        return view

    @post(
        "/cases/{case_id:uuid}/acknowledge",
        summary="Take the case: its escalation stops (409 unless open)",
        status_code=200,
        **staff_only("support_agent"),
    )
    async def acknowledge(
        self, request: Request[Any, Any, Any], desk: DeskDependency, case_id: FromPath[uuid.UUID]
    ) -> Case:
        return await usecases.acknowledge(desk, case_id, _person(request))

    @post(
        "/cases/{case_id:uuid}/resolve",
        summary="Close the case (409 if resolved already)",
        status_code=200,
        **staff_only("support_agent"),
    )
    async def resolve(
        self, request: Request[Any, Any, Any], desk: DeskDependency, case_id: FromPath[uuid.UUID]
    ) -> Case:
        return await usecases.resolve(desk, case_id, _person(request))

    @post(
        "/cases/{case_id:uuid}/messages",
        summary="Reply in a case's thread",
        description='Body: {"message"}.',
        status_code=204,
        **staff_only("support_agent"),
    )
    async def reply(
        self, request: Request[Any, Any, Any], desk: DeskDependency, case_id: FromPath[uuid.UUID]
    ) -> None:
        form = decode_all_problems(await json_body(request), MessageForm)
        person = _person(request)
        await usecases.write(desk, case_id, "agent", person, form.message)


class RotaController(Controller):
    path = "/v1/support"
    tags = ("support",)

    @put(
        "/agents/{person:str}",
        summary="Create or replace an agent's profile (languages spoken, time zone, lead)",
        description='Body: {"email", "languages": ISO 639 codes, "time_zone", "lead"}.',
        **staff_only("coordinator"),
    )
    async def put_agent(
        self, request: Request[Any, Any, Any], runtime: RuntimeDependency, person: FromPath[str]
    ) -> Agent:
        if not 0 < len(person) <= 200:
            raise BadRequest([FieldProblem(field="person", message="1 to 200 characters")])
        form = decode_all_problems(await json_body(request), AgentForm)
        agent = Agent(
            person=person,
            email=form.email,
            languages=form.languages,
            time_zone=form.time_zone,
            lead=form.lead,
        )
        await usecases.save_agent(runtime.pool, agent)
        return agent

    @get("/agents", summary="The desk's agents", **staff_only("support_agent"))
    async def list_agents(self, runtime: RuntimeDependency) -> list[Agent]:
        return await usecases.agents(runtime.pool)

    @put(
        "/rota",
        summary="Replace the rota of a period",
        description=(
            'Body: {"starts_at", "ends_at", "shifts": [{"person", "starts_at", "ends_at", '
            '"position"}]}: the shifts starting within the period are replaced by these. Lower '
            "positions go first among the people on call at one moment. Every shift must start "
            "within the period and name a known agent (400 otherwise; nothing changes)."
        ),
        **staff_only("coordinator"),
    )
    async def put_rota(
        self, request: Request[Any, Any, Any], runtime: RuntimeDependency
    ) -> list[Shift]:
        form = decode_all_problems(await json_body(request), RotaForm)
        if form.ends_at <= form.starts_at:
            raise BadRequest([FieldProblem(field="$.ends_at", message="must be after starts_at")])
        shifts = [
            Shift(person=s.person, starts_at=s.starts_at, ends_at=s.ends_at, position=s.position)
            for s in form.shifts
        ]
        return await usecases.replace_rota(runtime.pool, form.starts_at, form.ends_at, shifts)

    @get("/rota", summary="The shifts of a period", **staff_only("support_agent"))
    async def get_rota(
        self,
        runtime: RuntimeDependency,
        starts_at: FromQuery[AwareDatetime],
        ends_at: FromQuery[AwareDatetime],
    ) -> list[Shift]:
        return await usecases.rota_between(runtime.pool, starts_at, ends_at)

    @get("/on-call", summary="Who is on call now, in order", **staff_only("support_agent"))
    async def on_call(self, runtime: RuntimeDependency) -> list[OnCall]:
        return await usecases.on_call(runtime.pool, datetime.now(UTC))

    @put(
        "/policies/{priority:str}",
        summary="Set a priority's response targets",
        description='Body: {"acknowledge_within_seconds", "resolve_within_seconds"}.',
        **staff_only("coordinator"),
    )
    async def put_policy(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        priority: FromPath[str],
    ) -> Policy:
        # A priority the desk does not have is a policy that does not exist, told before the
        # body is read.
        if priority not in PRIORITIES:
            raise NotFound(f"no policy {priority!r}: priorities are {', '.join(PRIORITIES)}")
        form = decode_all_problems(await json_body(request), PolicyForm)
        return await usecases.set_policy(
            runtime.pool,
            Policy(
                priority=priority,  # type: ignore[arg-type]  # one of PRIORITIES, checked above
                acknowledge_within_seconds=form.acknowledge_within_seconds,
                resolve_within_seconds=form.resolve_within_seconds,
            ),
        )

    @get("/policies", summary="The response targets per priority", **staff_only("support_agent"))
    async def get_policies(self, runtime: RuntimeDependency) -> list[Policy]:
        return await usecases.policies(runtime.pool)

    @get(
        "/stats",
        summary="Time to acknowledge and to resolve per priority (p50, p95), breaches",
        **staff_only("support_agent"),
    )
    async def stats(self, runtime: RuntimeDependency) -> list[PriorityStats]:
        return await usecases.stats(runtime.pool)

"""What every coordinator's change to a case needs, bundled in one dependency so each handler is
a call and an answer: the pool, outbox and keys, the case in the path, who asks (the staff
person), the version the change is based on (If-Match) and when.

Every change names that version in `If-Match: "<version>"` (the case's ETag): a stale one is a
412, a missing one a 428, so two coordinators never overwrite each other. The header is read
when the handler runs, after the body was checked, so a bad body is still a 400 first."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi import ResponseSpec
from litestar.params import FromPath

from services.inquiries.api.patient_access import NO_STORE
from services.inquiries.domain.views import CaseView
from services.inquiries.usecases import casework
from services.inquiries.usecases.cases import Stamp
from services.runtime.access.staff import Principal, staff_only
from services.runtime.core.db import Pool
from services.runtime.core.errors import NotFound
from services.runtime.http.preconditions import IfMatch, etag, required_version
from services.runtime.http.problems import MEDIA_TYPE, Problem
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing
from services.runtime.service.running import KeysDependency, RuntimeDependency


def viewer(principal: Principal) -> str | None:
    """Whose cases a person sees: a coordinator their own and the unassigned queue (their
    name); a lead coordinator or an admin every case (None)."""
    return None if principal.may("lead_coordinator") else principal.person


async def _case_in_view(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """A case assigned to another coordinator is, for this one, a case that does not exist:
    404 for reads and commands alike, so ids cannot be probed. Runs after the staff guard."""
    del handler  # applies to every route with a case in its path
    inquiry_id = connection.path_params.get("inquiry_id")
    if inquiry_id is None:
        return
    pool = connection.app.state.runtime.pool
    if not await casework.in_view(pool, inquiry_id, viewer(connection.state.principal)):
        raise NotFound(f"no inquiry {inquiry_id}")


_STAFF = staff_only("coordinator")
# A coordinator's route: the staff guard, then the case's visibility.
COORDINATOR = {**_STAFF, "guards": [*_STAFF["guards"], _case_in_view]}


def _problem(description: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        description=description,
        media_type=MEDIA_TYPE,
        generate_examples=False,
    )


# What a change to a case may answer besides success, documented once for every such route.
CHANGE = {
    404: _problem("No such case"),
    409: _problem("The lifecycle does not allow this step now; `allowed` lists what may follow"),
    412: _problem("If-Match names an older version: reload the case and apply the change again"),
    422: _problem("The step breaks a rule; `errors` lists every problem"),
    428: _problem('If-Match is missing: send the version the change is based on, e.g. "3"'),
}


@dataclass(frozen=True)
class CaseCommand:
    pool: Pool
    outbox: Outbox
    keys: KeyRing
    id: uuid.UUID
    by: str
    if_match: str | None
    now: datetime
    # Whose cases the person sees (see `viewer`): None for a lead coordinator or an admin.
    viewer: str | None = None

    @property
    def stamp(self) -> Stamp:
        """Who, based on which version (428 when If-Match is missing), and when."""
        return Stamp(by=self.by, expected_version=required_version(self.if_match), now=self.now)

    async def answer(self, status_code: int = 200) -> Response[CaseView]:
        """The case as it is now, with its version as the ETag for the next change."""
        return await case_answer(self.pool, self.keys, self.id, status_code)


async def case_answer(
    pool: Pool, keys: KeyRing, inquiry_id: uuid.UUID, status_code: int = 200
) -> Response[CaseView]:
    view = await casework.case_view(pool, keys, inquiry_id)
    return Response(
        view,
        status_code=status_code,
        headers={"ETag": etag(view.version), "Cache-Control": NO_STORE},
    )


def person(request: Request[Any, Any, Any]) -> str:
    principal: Principal = request.state.principal
    return principal.person


def _case_command(
    request: Request[Any, Any, Any],
    runtime: RuntimeDependency,
    keys: KeysDependency,
    inquiry_id: FromPath[uuid.UUID],
    if_match: IfMatch = None,
) -> CaseCommand:
    return CaseCommand(
        pool=runtime.pool,
        outbox=runtime.outbox,
        keys=keys,
        id=inquiry_id,
        by=person(request),
        if_match=if_match,
        now=datetime.now(UTC),
        viewer=viewer(request.state.principal),
    )


# How a change route asks for it: `cmd: Command` (provided by every coordinator controller).
Command = NamedDependency[CaseCommand]
PROVIDE = {"cmd": Provide(_case_command, sync_to_thread=False)}

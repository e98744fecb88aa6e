"""One error tree for every service. Domain code raises these with a human detail; HTTP renders
them as problem+json, consumers turn them into dead letters."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec


class FieldProblem(msgspec.Struct, frozen=True, kw_only=True):
    """One reason input was refused: where (a JSON path or parameter name) and why."""

    field: str
    message: str


class DomainError(Exception):
    """A request or message that the rules refuse; retrying it unchanged cannot succeed."""

    status = 422
    title = "Unprocessable request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Forbidden(DomainError):
    """The caller is known but the rules do not let them do this (e.g. review their own text)."""

    status = 403
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class IllegalTransition(Conflict):
    title = "Illegal state transition"

    def __init__(self, detail: str, *, allowed: Sequence[str]) -> None:
        super().__init__(detail)
        self.allowed = tuple(allowed)


class PreconditionFailed(DomainError):
    """The caller's version (If-Match) is no longer the current one."""

    status = 412
    title = "Precondition failed"


class PreconditionRequired(DomainError):
    """A write that must name the version it is based on (If-Match) did not."""

    status = 428
    title = "Precondition required"


class UnsupportedMediaType(DomainError):
    """A body in a format the route does not take (text where JSON is expected)."""

    status = 415
    title = "Unsupported media type"


class Invalid(DomainError):
    """Input breaks rules a schema cannot express; lists every problem at once."""

    status = 422
    title = "Invalid input"

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = tuple(problems)

    @classmethod
    def single(cls, field: str, message: str) -> Invalid:
        return cls([FieldProblem(field=field, message=message)])


class BadRequest(Invalid):
    """A malformed request parameter (query, header): the caller must change the request."""

    status = 400
    title = "Invalid request"


class NotYet(Exception):
    """A message that came before the one it depends on: at-least-once delivery reorders them
    (a message held by a replica that died returns only after its ack deadline). Not refused:
    the consumer hands it back to be delivered again later, and keeps it as a dead letter only
    if it is still premature after many attempts."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Unavailable(Exception):
    """Another service this request needs did not answer in time: unlike a DomainError, the
    same request may succeed later. HTTP answers 503 with this detail and Retry-After: the
    seconds the caller knows the peer needs."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after

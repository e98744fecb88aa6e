"""What a JSON request body must be before any decoder sees it, checked in one place for every
route of every service: sent as JSON (415 otherwise), nested no deeper than MAX_DEPTH (msgspec
and the json module raise RecursionError, not a decode error, at about a thousand levels), every
object key given once (msgspec keeps the last of a repeated key, silently), and no control
characters in any string but tab, line feed and carriage return (a NUL in a name is stored
otherwise, and is invisible in every page that shows it).

Every body read goes through `json_body`: Litestar's own decoding of `data:` parameters, by
way of `JSONRequest` (the app's request class), and the routes that read the body themselves, by
calling it. Invalid JSON is left to the decoder, which names the error."""

from __future__ import annotations

import json
import re
from typing import Any

from litestar import Request

from services.runtime.core.errors import BadRequest, FieldProblem, UnsupportedMediaType

# Far deeper than any document we take (the deepest, an offer, nests five levels), far below
# the decoders' recursion limits, whatever the stack depth they are called at.
MAX_DEPTH = 32
# application/json and the structured-syntax suffix (RFC 6839): application/problem+json, ...
_JSON_TYPE = re.compile(r"application/(?:[a-z0-9!#$&^_.-]+\+)?json", re.IGNORECASE)
# Every byte but the four brackets, deleted by bytes.translate (in C) to leave the structure.
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# Escapes of C0 controls other than tab, line feed and carriage return: raw ones are not JSON
# at all, so a body can only hold a control character through one of these.
_CONTROL_ESCAPE = re.compile(rb"\\(?:[bf]|u00(?:0[0-8bcefBCEF]|1[0-9a-fA-F])|u007[fF])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_MESSAGE = "must not contain control characters (only tab, line feed and carriage return)"


async def json_body(request: Request[Any, Any, Any]) -> bytes:
    """The request's body, refused unless it is JSON in the sense above. An empty body is
    passed on as it is (routes with an optional body take it as none)."""
    body = await request.body()
    if body:
        require_json_type(request.headers.get("content-type"))
        check_json(body)
    return body


def require_json_type(content_type: str | None) -> None:
    media_type = (content_type or "").partition(";")[0].strip()
    if not _JSON_TYPE.fullmatch(media_type):
        raise UnsupportedMediaType(
            f"the body must be JSON, sent as Content-Type: application/json "
            f"(got {content_type or 'no Content-Type'})"
        )


def check_json(body: bytes) -> None:
    """BadRequest naming `body` when `body` nests deeper than MAX_DEPTH, naming the key when a
    key repeats within an object or a string holds a control character."""
    if _too_deep(body):
        raise BadRequest(
            [FieldProblem(field="body", message=f"is nested deeper than {MAX_DEPTH} levels")]
        )
    controls = _CONTROL_ESCAPE.search(body) is not None
    try:
        top = json.loads(body, object_pairs_hook=_checked_pairs if controls else _unique_pairs)
        if controls:
            _refuse_controls_in(top, "body")  # strings outside any object
    except _Refused as refused:
        raise BadRequest([FieldProblem(field=refused.key, message=refused.message)]) from None
    except ValueError:  # not JSON (or not UTF-8): the decoder says what is wrong
        return
    except RecursionError:  # within MAX_DEPTH by the scan above; kept should the scan be fooled
        raise BadRequest([FieldProblem(field="body", message="is nested too deeply")]) from None


def _too_deep(body: bytes) -> bool:
    """Whether the brackets outside strings nest deeper than MAX_DEPTH: escapes dropped (a
    run of backslashes pairs off from the left, as JSON reads it), the parts between quotes
    dropped, then innermost pairs peeled off MAX_DEPTH times. All of it runs in C: a few
    microseconds on a form, tens of milliseconds on a hostile body at the size limit."""
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return False  # too few openings to nest that deep: the usual form ends here
    text = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    if b'"' in text:
        text = b"".join(text.split(b'"')[::2])
    brackets = text.translate(None, _NOT_BRACKETS)
    for peeled_levels in range(MAX_DEPTH):
        if len(brackets) <= 2 * (MAX_DEPTH - peeled_levels):
            # Fewer brackets than levels left to peel: no room for a deeper nest.
            return False
        peeled = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if peeled == brackets:
            # Unbalanced: not JSON. Long runs are refused here, before a parser recurses.
            return len(brackets) > MAX_DEPTH
        brackets = peeled
    return bool(brackets)


class _Refused(Exception):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(key)
        self.key = key
        self.message = message


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(key, "is given more than once in the same object")
            seen.add(key)
    return found


def _checked_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = _unique_pairs(pairs)
    for key, value in pairs:
        if _CONTROL.search(key):
            raise _Refused(key, CONTROL_MESSAGE)
        _refuse_controls_in(value, key)
    return found


def _refuse_controls_in(value: Any, key: str) -> None:
    """Strings directly in `value` or in its arrays (objects are checked by their own hook)."""
    if isinstance(value, str):
        if _CONTROL.search(value):
            raise _Refused(key, CONTROL_MESSAGE)
    elif isinstance(value, list):
        for item in value:
            _refuse_controls_in(item, key)


class JSONRequest(Request[Any, Any, Any]):
    """The app's request class: Litestar decodes `data:` parameters through `json()`."""

    async def json(self) -> Any:
        await json_body(self)
        return await super().json()

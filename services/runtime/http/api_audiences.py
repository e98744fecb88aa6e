"""A service's OpenAPI document cut for its audiences: `public`, what a third-party site or app
calls (anonymous reads, a consumer's API key, a patient's token); `partners`, what a partner on
the HTTP channel calls with its partner token; and `staff`, what the operator's people and
machines call (staff tokens, `/admin`, `/health`). A site generates its client from the public
document alone, so it never carries types of staff or partner routes; each part keeps only the
components its operations reach."""

from __future__ import annotations

import copy
import json
from typing import Any, Literal

from litestar import Request
from litestar.enums import MediaType
from litestar.openapi.plugins import OpenAPIRenderPlugin

Audience = Literal["public", "partners", "staff"]
AUDIENCES: tuple[Audience, ...] = ("public", "partners", "staff")
# The security scheme of a partner's token (logistics' reply API names it so).
PARTNER_SCHEME = "partnerToken"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_OPERATIONAL = ("/admin/", "/health/")
_TITLES = {
    "public": "for sites and apps",
    "partners": "for partners on the HTTP channel",
    "staff": "for staff and operators",
}


def audience_of(path: str, operation: dict[str, Any], staff_scheme: str) -> set[Audience]:
    """Who calls an operation: staff if any way in is a staff token (the security scheme
    `staff_scheme`) or the path is operational, public if any way in is not (an export a
    patient or a coordinator may ask for)."""
    if path.startswith(_OPERATIONAL):
        return {"staff"}
    ways = operation.get("security") or [{}]
    found: set[Audience] = set()
    for way in ways:
        if staff_scheme in way:
            found.add("staff")
        elif PARTNER_SCHEME in way:
            found.add("partners")
        else:
            found.add("public")
    return found


def part(document: dict[str, Any], audience: Audience, staff_scheme: str) -> dict[str, Any]:
    """The operations of `document` for `audience`, with the components they reach."""
    out = copy.deepcopy({k: v for k, v in document.items() if k not in ("paths", "components")})
    out["info"] = dict(out.get("info", {}))
    out["info"]["title"] = f"{out['info'].get('title', 'API')} ({_TITLES[audience]})"
    paths: dict[str, Any] = {}
    for path, item in document.get("paths", {}).items():
        kept = {
            method: op
            for method, op in item.items()
            if method in METHODS and audience in audience_of(path, op, staff_scheme)
        }
        if kept:
            common = {k: v for k, v in item.items() if k not in METHODS}
            paths[path] = copy.deepcopy(common | kept)
    out["paths"] = paths
    out["components"] = _reached_components(document.get("components", {}), paths)
    if not out["components"]:
        del out["components"]
    return out


def _reached_components(components: dict[str, Any], paths: dict[str, Any]) -> dict[str, Any]:
    reached: dict[str, set[str]] = {}
    pending = [paths]
    schemes = {name for item in paths.values() for op in item.values() if isinstance(op, dict)
               for way in op.get("security", []) for name in way}  # fmt: skip
    while pending:
        for ref in _refs(pending.pop()):
            section, _, name = ref.removeprefix("#/components/").partition("/")
            if name in reached.setdefault(section, set()):
                continue
            target = components.get(section, {}).get(name)
            if target is not None:
                reached[section].add(name)
                pending.append(target)
    found: dict[str, Any] = {
        section: {name: copy.deepcopy(components[section][name]) for name in sorted(names)}
        for section, names in reached.items()
        if names
    }
    if schemes and "securitySchemes" in components:
        found["securitySchemes"] = {
            name: copy.deepcopy(scheme)
            for name, scheme in components["securitySchemes"].items()
            if name in schemes
        }
    return dict(sorted(found.items()))


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


class AudienceDocument(OpenAPIRenderPlugin):
    """`/schema/<audience>.json`: that audience's part of the service's document."""

    def __init__(self, audience: Audience, staff_scheme: str) -> None:
        super().__init__(path=f"/{audience}.json", media_type=MediaType.JSON)
        self.audience = audience
        self.staff_scheme = staff_scheme

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        del request
        return json.dumps(part(openapi_schema, self.audience, self.staff_scheme)).encode()

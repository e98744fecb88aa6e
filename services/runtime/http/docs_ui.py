"""The API docs UI at `/schema`, from assets the service serves itself: Litestar's render
plugins load their JavaScript and CSS from a CDN, and on a network without it (a hospital
intranet, a test machine) the page stays blank.

The assets are Swagger UI's own build, installed with the service as a Python package
(`swagger-ui-bundle-v2`, kept by the connexion maintainers): nothing is fetched at run time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, get
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import OpenAPIRenderPlugin, SwaggerRenderPlugin
from litestar.params import FromPath
from litestar.response import File
from swagger_ui_bundle import swagger_ui_path

from services.runtime.http.api_audiences import AUDIENCES, Audience, AudienceDocument, part

ASSETS = "/schema/assets"
# What the page loads, with its media type (named here: the platform's MIME table may lack
# one); the rest of the bundle (source maps, other builds) is not served.
FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


class _AudienceSwagger(SwaggerRenderPlugin):
    """Swagger UI showing one audience's part of the document (api_audiences.py)."""

    def __init__(self, audience: Audience, staff_scheme: str, **kwargs: Any) -> None:
        super().__init__(path=f"/{audience}", **kwargs)
        self.audience = audience
        self.staff_scheme = staff_scheme

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, part(openapi_schema, self.audience, self.staff_scheme))


def docs_ui(staff_scheme: str) -> list[OpenAPIRenderPlugin]:
    """Swagger UI at `/schema` (and `/schema/swagger`, where it was before) for the whole
    document, at `/schema/public` and `/schema/staff` for each audience's part, and those parts
    as JSON at `/schema/public.json` and `/schema/staff.json` (`staff_scheme` names the
    security scheme of staff tokens)."""
    assets: dict[str, Any] = {
        "js_url": f"{ASSETS}/swagger-ui-bundle.js",
        "css_url": f"{ASSETS}/swagger-ui.css",
        "standalone_preset_js_url": f"{ASSETS}/swagger-ui-standalone-preset.js",
        "favicon": f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>",
    }
    return [
        SwaggerRenderPlugin(path=["/", "/swagger"], **assets),
        *(_AudienceSwagger(audience, staff_scheme, **assets) for audience in AUDIENCES),
        *(AudienceDocument(audience, staff_scheme) for audience in AUDIENCES),
    ]


@get(
    f"{ASSETS}/{{name:str}}",
    include_in_schema=False,
    cache_control=CacheControlHeader(max_age=86400),
)
async def get_docs_asset(name: FromPath[str]) -> File:
    """One of the files the docs page loads; any other name is a 404."""
    media_type = FILES.get(name)
    if media_type is None:
        raise NotFoundException(f"no docs asset is named {name!r}")
    return File(Path(str(swagger_ui_path)) / name, media_type=media_type)

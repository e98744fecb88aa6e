"""The API docs UI at `/schema`, from assets the service serves itself: Litestar's render
plugins load their JavaScript and CSS from a CDN, and on a network without it (a hospital
intranet, a test machine) the page stays blank.

The assets are Swagger UI's own build, installed with the service as a Python package
(`swagger-ui-bundle-v2`, kept by the connexion maintainers): nothing is fetched at run time."""

from __future__ import annotations

from pathlib import Path

from litestar import get
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import FromPath
from litestar.response import File
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/schema/assets"
# What the page loads, with its media type (named here: the platform's MIME table may lack
# one); the rest of the bundle (source maps, other builds) is not served.
FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


def docs_ui() -> SwaggerRenderPlugin:
    """Swagger UI at `/schema` (and `/schema/swagger`, where it was before)."""
    return SwaggerRenderPlugin(
        path=["/", "/swagger"],
        js_url=f"{ASSETS}/swagger-ui-bundle.js",
        css_url=f"{ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>",
    )


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

"""The embeddable widget a third-party page loads from this service: `<carebridge-inquiry>`
(the inquiry form) and `<carebridge-status>` (the patient's timeline), one ES module of plain
JavaScript in services/inquiries/widget/. Served here, not from a CDN, so a site embeds the
version that speaks this API's contract; an anonymous GET, so the access layer adds
`Access-Control-Allow-Origin: *`, which a module script loaded from another origin needs."""

from __future__ import annotations

from pathlib import Path

from litestar import get
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File

WIDGET_DIR = Path(__file__).resolve().parents[1] / "widget"
WIDGET_PATH = "/widget"
# Named, not globbed: only what a page loads is served.
FILES = {"carebridge.js": "text/javascript"}


@get(
    f"{WIDGET_PATH}/{{name:str}}",
    summary="The embeddable inquiry form and status view (an ES module)",
    include_in_schema=False,
    # An hour: a fixed widget reaches pages soon; no ETag churn on every page view.
    cache_control=CacheControlHeader(max_age=3600, public=True),
)
async def get_widget_file(name: FromPath[str]) -> File:
    media_type = FILES.get(name)
    if media_type is None:
        raise NotFoundException(f"no widget file is named {name!r}")
    return File(
        WIDGET_DIR / name, filename=name, media_type=media_type, content_disposition_type="inline"
    )

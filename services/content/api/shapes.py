"""The shapes the delivery API serves, for its OpenAPI document only: the handlers send bytes
encoded once (representation.py), so these Structs never encode an answer; they tell a client
generator what those bytes hold.

They are built from the domain's Structs (domain/documents.py), so a field an editor can write
appears in the contract without a second list to keep: a served document is its kind's shared
facts, its texts composed for the reader's locale (Markdown beside the HTML rendered from it),
and what representation.document() adds. Every field but `kind` and `slug` may be absent: a
list item is a summary, and `fields=` selects a subset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Union, get_args, get_origin

import msgspec
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from msgspec import UNSET

from services.content.domain.documents import (
    Condition,
    ConditionText,
    Faq,
    Section,
    ServiceOffering,
    ServiceText,
    Treatment,
    TreatmentText,
    Trust,
)
from services.content.domain.reviews import ReviewState


class RenderedSection(Section, frozen=True, kw_only=True):
    body_html: str


class RenderedFaq(Faq, frozen=True, kw_only=True):
    answer_html: str


def _as_list(hint: Any) -> Any:
    """`tuple[X, ...]` as `list[X]`, constraints kept: the schema generator renders the tuple's
    `...` as an `{}` alternative, which a `oneOf` then matches twice."""
    if get_origin(hint) is Annotated:
        inner, *metadata = get_args(hint)
        return Annotated[(_as_list(inner), *metadata)]
    args = get_args(hint)
    if get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis:
        item: Any = args[0]
        return list[item]
    return hint


def _listed(
    name: str, struct: type[msgspec.Struct], extra: tuple[tuple[str, Any], ...] = ()
) -> Any:
    """`struct` with its tuples as lists (see _as_list), and the `extra` fields served with it."""
    return msgspec.defstruct(
        name,
        [
            *extra,
            *(
                (f.name, _as_list(f.type)) if f.required else (f.name, _as_list(f.type), f.default)
                for f in msgspec.structs.fields(struct)
            ),
        ],
        kw_only=True,
        frozen=True,
        module=__name__,
    )


# The types a rendered text holds in place of what an editor writes.
_RENDERED = {
    "sections": list[RenderedSection],
    "faqs": list[RenderedFaq],
    # What a reader is told of the medical review, decided when it is served.
    "trust": _listed("ServedTrust", Trust, (("review", ReviewState),)),
}
_RENDERED_ONLY = {"how_to_book_html": str}


def _fields(*structs: type[msgspec.Struct], skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every field of `structs` (first wins), each optional, with rendered types where text
    becomes HTML."""
    fields: dict[str, Any] = {}
    for struct in structs:
        for field in msgspec.structs.fields(struct):
            if field.name not in fields and field.name not in skip:
                fields[field.name] = _RENDERED.get(field.name, _as_list(field.type))
    return fields


# What representation.document() adds to every served document besides its own fields.
_SERVED: dict[str, Any] = {
    "url": str,
    "revision": int,
    "updated_at": datetime,
    "locale": str,
    "requested_locale": str,
    "available_locales": list[str],
    "field_locales": dict[str, str],
    "disclaimer": str,
    "price_disclaimer": str,
    # Related documents embedded by `include=`, as summaries; resolved by name (it is this union).
    "included": dict[str, list["ServedDocument"]],
}


def _served(
    name: str, tag: str, document: type[msgspec.Struct], text: type[msgspec.Struct]
) -> type[msgspec.Struct]:
    own = _fields(document, text, skip=frozenset({"slug", "translations"})) | _RENDERED_ONLY
    if text is not ServiceText:
        own.pop("how_to_book_html")
    return msgspec.defstruct(
        name,
        # Absent, not null, when not sent: UNSET makes a field optional in the schema.
        [("slug", str)] + [(k, v, UNSET) for k, v in (_SERVED | own).items()],
        tag=tag,
        tag_field="kind",
        kw_only=True,
        frozen=True,
        module=__name__,
    )


ConditionDocument = _served("ConditionDocument", "condition", Condition, ConditionText)
TreatmentDocument = _served("TreatmentDocument", "treatment", Treatment, TreatmentText)
ServiceDocument = _served("ServiceDocument", "service", ServiceOffering, ServiceText)
DOCUMENT: dict[str, type[msgspec.Struct]] = {
    "condition": ConditionDocument,
    "treatment": TreatmentDocument,
    "service": ServiceDocument,
}
# A served document of any collection: `kind` tells which.
ServedDocument: Any = Union[ConditionDocument, TreatmentDocument, ServiceDocument]  # noqa: UP007

# What sync sends: the facts shared by every locale, and per locale the rendered texts.
SharedFacts: Any = Union[  # noqa: UP007
    tuple(
        msgspec.defstruct(
            f"{name}Facts",
            [(k, v) for k, v in _fields(struct, skip=frozenset({"translations"})).items()],
            tag=tag,
            tag_field="kind",
            kw_only=True,
            frozen=True,
            module=__name__,
        )
        for name, tag, struct in (
            ("Condition", "condition", Condition),
            ("Treatment", "treatment", Treatment),
            ("Service", "service", ServiceOffering),
        )
    )
]
RenderedText: Any = msgspec.defstruct(
    "RenderedText",
    [
        (k, v, UNSET)
        for k, v in (_fields(ConditionText, TreatmentText, ServiceText) | _RENDERED_ONLY).items()
    ],
    kw_only=True,
    frozen=True,
    module=__name__,
)


_TEXT = Schema(type=OpenAPIType.STRING)
_OBJECT = Schema(type=OpenAPIType.OBJECT)
# schema.org's MedicalWebPage as representation.json_ld() builds it. Written as an OpenAPI
# schema: its names (`@context`, `@type`) are no Python names.
JSON_LD_PAGE = Schema(
    type=OpenAPIType.OBJECT,
    required=["@context", "@type", "name", "url", "inLanguage", "about"],
    properties={
        "@context": Schema(const="https://schema.org"),
        "@type": Schema(const="MedicalWebPage"),
        "inLanguage": _TEXT,
        "name": _TEXT,
        "description": _TEXT,
        "url": _TEXT,
        "dateModified": _TEXT,
        "lastReviewed": _TEXT,
        "about": _OBJECT,
        "reviewedBy": _OBJECT,
        "author": _OBJECT,
        "citation": Schema(type=OpenAPIType.ARRAY, items=_OBJECT),
    },
)


@dataclass
class WithJsonLd(Operation):
    """A read whose 200 is JSON, or JSON-LD with `Accept: application/ld+json`: a route's
    `responses` name one media type per status, so the second is added here."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse) and ok.content is not None:
            ok.content["application/ld+json"] = OpenAPIMediaType(schema=JSON_LD_PAGE)


NOT_MODIFIED = ResponseSpec(
    None, description="Not modified: `If-None-Match` names this representation"
)
DOCUMENT_RESPONSES = {
    200: ResponseSpec(
        ServedDocument,
        generate_examples=False,
        description="The document, composed for the reader's locale",
    ),
    301: ResponseSpec(
        None, description="The slug was renamed: `Location` names the document's current URL"
    ),
    304: NOT_MODIFIED,
}

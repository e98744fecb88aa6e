"""Events of the content service: a document was published or taken down. They carry what a
consumer needs to purge caches and keep a catalogue of what exists, never the document itself."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from contracts.envelope import AwareDatetime, Event

ContentKind = Literal["condition", "treatment", "service"]
Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=120)]
Locale = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")]


class ContentPublished(Event, frozen=True, kw_only=True, tag="content_published"):
    """A revision of a document is now served publicly in the listed locales."""

    kind: ContentKind
    slug: Slug
    locales: tuple[Locale, ...]
    revision: Annotated[int, msgspec.Meta(ge=1)]
    published_at: AwareDatetime
    # Slugs this document answered to before; their URLs now redirect to `slug`.
    previous_slugs: tuple[Slug, ...] = ()


class ContentUnpublished(Event, frozen=True, kw_only=True, tag="content_unpublished"):
    """A document is no longer served; caches and catalogues must drop it."""

    kind: ContentKind
    slug: Slug
    locales: tuple[Locale, ...]
    revision: Annotated[int, msgspec.Meta(ge=1)]
    unpublished_at: AwareDatetime


ContentEvent = ContentPublished | ContentUnpublished
content_event_decoder = msgspec.json.Decoder(ContentEvent)

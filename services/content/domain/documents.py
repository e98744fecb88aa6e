"""The documents editors write: conditions, treatments and service offerings.

Every text a reader sees exists per locale (`translations`); facts that do not depend on the
language (codes, dates, relations, sources) are stated once. Markdown is what editors write; the
HTML served beside it is rendered and sanitised at publish time."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

from contracts.content import Locale, Slug

ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
LongText = Annotated[str, msgspec.Meta(min_length=1, max_length=100_000)]
Icd10 = Annotated[str, msgspec.Meta(pattern=r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$")]
Tag = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=60)]
Url = Annotated[str, msgspec.Meta(pattern=r"^https?://\S+$", max_length=2000)]
Euro = Annotated[int, msgspec.Meta(ge=0)]
# Every list in a document is bounded (a list without one took 100,000 items elsewhere): far
# more sections, FAQs, tags or translations than a page shows.
LISTED = msgspec.Meta(max_length=100)

SectionKey = Literal[
    "overview",
    "causes",
    "symptoms",
    "diagnosis",
    "treatment",
    "prognosis",
    "living-with",
    "procedure",
    "risks",
    "recovery",
    "included",
    "how-to-book",
]
TreatmentKind = Literal[
    "medication", "surgery", "catheter-procedure", "rehabilitation", "diagnostic", "other"
]
ServiceKind = Literal["transfer", "interpreter", "medicine_shipment", "support"]


class Strict(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Editorial input: a misspelt field is an error, not silently dropped text."""


class Person(Strict, frozen=True, kw_only=True):
    name: ShortText
    qualification: ShortText | None = None


class Source(Strict, frozen=True, kw_only=True):
    title: ShortText
    publisher: ShortText
    url: Url
    accessed: date


class Section(Strict, frozen=True, kw_only=True):
    key: SectionKey
    heading: ShortText
    body: LongText


class Faq(Strict, frozen=True, kw_only=True):
    question: ShortText
    answer: LongText


class PriceRange(Strict, frozen=True, kw_only=True):
    """Prices are estimates: they carry the date they were true on and a non-binding note."""

    from_eur: Euro
    to_eur: Euro | None = None
    as_of: date


class StayRange(Strict, frozen=True, kw_only=True):
    min_days: Annotated[int, msgspec.Meta(ge=0)]
    max_days: Annotated[int, msgspec.Meta(ge=0)]


class Seo(Strict, frozen=True, kw_only=True):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=70)]
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=170)]


class Trust(Strict, frozen=True, kw_only=True):
    """Who wrote a page and what it rests on. Who checked it, and when, is no text an editor
    types: it is a medical reviewer's sign-off (domain/reviews.py), served as `trust.review`."""

    author: Person
    sources: Annotated[tuple[Source, ...], LISTED] = ()


class ConditionText(Strict, frozen=True, kw_only=True):
    title: ShortText
    summary: LongText
    sections: Annotated[tuple[Section, ...], LISTED] = ()
    symptoms: Annotated[tuple[ShortText, ...], LISTED] = ()
    risk_factors: Annotated[tuple[ShortText, ...], LISTED] = ()
    faqs: Annotated[tuple[Faq, ...], LISTED] = ()
    seo: Seo | None = None
    translation_reviewer: Person | None = None


class TreatmentText(Strict, frozen=True, kw_only=True):
    title: ShortText
    summary: LongText
    sections: Annotated[tuple[Section, ...], LISTED] = ()
    faqs: Annotated[tuple[Faq, ...], LISTED] = ()
    price_note: LongText | None = None
    seo: Seo | None = None
    translation_reviewer: Person | None = None


class ServiceText(Strict, frozen=True, kw_only=True):
    title: ShortText
    summary: LongText
    included: Annotated[tuple[ShortText, ...], LISTED] = ()
    how_to_book: LongText | None = None
    faqs: Annotated[tuple[Faq, ...], LISTED] = ()
    price_note: LongText | None = None
    seo: Seo | None = None
    translation_reviewer: Person | None = None


class Condition(Strict, frozen=True, kw_only=True, tag="condition", tag_field="kind"):
    slug: Slug
    icd10: Annotated[tuple[Icd10, ...], LISTED] = ()
    specialty: Tag
    tags: Annotated[tuple[Tag, ...], LISTED] = ()
    related_treatments: Annotated[tuple[Slug, ...], LISTED] = ()
    related_services: Annotated[tuple[Slug, ...], LISTED] = ()
    trust: Trust
    translations: Annotated[dict[Locale, ConditionText], LISTED]


class Treatment(Strict, frozen=True, kw_only=True, tag="treatment", tag_field="kind"):
    slug: Slug
    treatment_kind: TreatmentKind
    specialty: Tag
    tags: Annotated[tuple[Tag, ...], LISTED] = ()
    length_of_stay: StayRange | None = None
    price: PriceRange | None = None
    related_conditions: Annotated[tuple[Slug, ...], LISTED] = ()
    related_services: Annotated[tuple[Slug, ...], LISTED] = ()
    trust: Trust
    translations: Annotated[dict[Locale, TreatmentText], LISTED]


class ServiceOffering(Strict, frozen=True, kw_only=True, tag="service", tag_field="kind"):
    slug: Slug
    service: ServiceKind
    tags: Annotated[tuple[Tag, ...], LISTED] = ()
    price_from: PriceRange | None = None
    translations: Annotated[dict[Locale, ServiceText], LISTED]


Document = Condition | Treatment | ServiceOffering
document_decoder = msgspec.json.Decoder(Document)


def kind_of(doc: Document) -> str:
    """The kind a document is tagged with: condition, treatment or service."""
    return str(type(doc).__struct_config__.tag)

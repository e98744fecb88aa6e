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
    """What reputable health publishers show about who wrote and checked a page, and when."""

    author: Person
    medical_reviewer: Person
    last_reviewed: date
    next_review_due: date
    sources: tuple[Source, ...] = ()


class ConditionText(Strict, frozen=True, kw_only=True):
    title: ShortText
    summary: LongText
    sections: tuple[Section, ...] = ()
    symptoms: tuple[ShortText, ...] = ()
    risk_factors: tuple[ShortText, ...] = ()
    faqs: tuple[Faq, ...] = ()
    seo: Seo | None = None
    translation_reviewer: Person | None = None


class TreatmentText(Strict, frozen=True, kw_only=True):
    title: ShortText
    summary: LongText
    sections: tuple[Section, ...] = ()
    faqs: tuple[Faq, ...] = ()
    price_note: LongText | None = None
    seo: Seo | None = None
    translation_reviewer: Person | None = None


class ServiceText(Strict, frozen=True, kw_only=True):
    title: ShortText
    summary: LongText
    included: tuple[ShortText, ...] = ()
    how_to_book: LongText | None = None
    faqs: tuple[Faq, ...] = ()
    price_note: LongText | None = None
    seo: Seo | None = None
    translation_reviewer: Person | None = None


class Condition(Strict, frozen=True, kw_only=True, tag="condition", tag_field="kind"):
    slug: Slug
    icd10: tuple[Icd10, ...] = ()
    specialty: Tag
    tags: tuple[Tag, ...] = ()
    related_treatments: tuple[Slug, ...] = ()
    related_services: tuple[Slug, ...] = ()
    trust: Trust
    translations: dict[Locale, ConditionText]


class Treatment(Strict, frozen=True, kw_only=True, tag="treatment", tag_field="kind"):
    slug: Slug
    treatment_kind: TreatmentKind
    specialty: Tag
    tags: tuple[Tag, ...] = ()
    length_of_stay: StayRange | None = None
    price: PriceRange | None = None
    related_conditions: tuple[Slug, ...] = ()
    related_services: tuple[Slug, ...] = ()
    trust: Trust
    translations: dict[Locale, TreatmentText]


class ServiceOffering(Strict, frozen=True, kw_only=True, tag="service", tag_field="kind"):
    slug: Slug
    service: ServiceKind
    tags: tuple[Tag, ...] = ()
    price_from: PriceRange | None = None
    translations: dict[Locale, ServiceText]


Document = Condition | Treatment | ServiceOffering
document_decoder = msgspec.json.Decoder(Document)


def kind_of(doc: Document) -> str:
    """The kind a document is tagged with: condition, treatment or service."""
    return str(type(doc).__struct_config__.tag)

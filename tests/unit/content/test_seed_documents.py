"""The seed content (services/content/seed/*.json) as a fresh installation publishes it: every
file decodes, is named for its kind and slug, is written in English and German, names only
related documents that exist in the seed, and passes the publishing rules."""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from services.content.domain.documents import Condition, Document, Treatment, document_decoder
from services.content.domain.publishing import publish_problems
from services.content.usecases.seeding import SEED_DIR

SEED_FILES = sorted(SEED_DIR.glob("*.json"))
LOCALES = {"en", "de"}
CORE_CONDITION_SECTIONS = {"overview", "causes", "symptoms", "diagnosis", "treatment", "prognosis"}
# Which kind of document each relation field may name.
RELATIONS = {
    "related_treatments": "treatment",
    "related_conditions": "condition",
    "related_services": "service",
}


def kind_of(doc: Document) -> str:
    return str(type(doc).__struct_config__.tag)


@cache
def load(path: Path) -> Document:
    doc: Document = document_decoder.decode(path.read_bytes())
    return doc


@cache
def seed_slugs() -> dict[str, frozenset[str]]:
    """kind -> slugs of every seed document, as the publishing rules expect them."""
    slugs: dict[str, set[str]] = {}
    for path in SEED_FILES:
        doc = load(path)
        slugs.setdefault(kind_of(doc), set()).add(doc.slug)
    return {kind: frozenset(found) for kind, found in slugs.items()}


def by_slug(kind: str, slug: str) -> Document:
    matches = [load(p) for p in SEED_FILES if kind_of(load(p)) == kind and load(p).slug == slug]
    assert len(matches) == 1, f"expected exactly one {kind} {slug!r}, found {len(matches)}"
    return matches[0]


seed_file = pytest.mark.parametrize("path", SEED_FILES, ids=[p.name for p in SEED_FILES])


def test_the_seed_folder_has_documents() -> None:
    assert SEED_FILES, f"no seed documents in {SEED_DIR}"


@seed_file
def test_each_file_decodes_and_is_named_for_its_kind_and_slug(path: Path) -> None:
    doc = load(path)
    assert path.name == f"{kind_of(doc)}-{doc.slug}.json"


@seed_file
def test_each_document_is_written_in_english_and_german(path: Path) -> None:
    assert set(load(path).translations) == LOCALES


def test_kinds_and_slugs_are_unique() -> None:
    keys = Counter((kind_of(load(p)), load(p).slug) for p in SEED_FILES)
    assert [key for key, count in keys.items() if count > 1] == []


@seed_file
def test_related_slugs_name_seed_documents_of_the_right_kind(path: Path) -> None:
    doc = load(path)
    existing = seed_slugs()
    for field, kind in RELATIONS.items():
        for slug in getattr(doc, field, ()):
            assert slug in existing.get(kind, frozenset()), f"{field}: no seed {kind} {slug!r}"


@seed_file
def test_each_document_passes_the_publishing_rules(path: Path) -> None:
    assert publish_problems(load(path), seed_slugs()) == []


def test_mitral_valve_insufficiency_has_its_code_and_core_sections() -> None:
    doc = by_slug("condition", "mitral-valve-insufficiency")
    assert isinstance(doc, Condition)
    # Non-rheumatic insufficiency, prolapse, rheumatic and congenital: the causes it describes.
    assert doc.icd10 == ("I34.0", "I34.1", "I05.1", "Q23.3")
    for locale in LOCALES:
        keys = {section.key for section in doc.translations[locale].sections}
        assert keys >= CORE_CONDITION_SECTIONS, f"{locale}: {CORE_CONDITION_SECTIONS - keys}"


def test_the_seed_has_enough_of_each_kind() -> None:
    kinds = Counter(kind_of(load(p)) for p in SEED_FILES)
    assert kinds["condition"] >= 4
    assert kinds["treatment"] >= 2
    assert kinds["service"] >= 4


def test_the_seed_names_no_people_and_claims_no_review() -> None:
    for path in SEED_FILES:
        raw = path.read_text()
        for claim in ("medical_reviewer", "last_reviewed", "translation_reviewer", "Dr. med."):
            assert claim not in raw, f"{path.name}: {claim}"


def test_teer_names_its_devices_and_secondary_regurgitation_puts_heart_failure_care_first() -> None:
    teer = by_slug("treatment", "transcatheter-edge-to-edge-repair")
    condition = by_slug("condition", "mitral-valve-insufficiency")
    assert isinstance(teer, Treatment)
    assert isinstance(condition, Condition)
    assert teer.treatment_kind == "catheter-procedure"
    assert "transcatheter-edge-to-edge-repair" in condition.related_treatments
    for locale in LOCALES:
        text = " ".join(s.body for s in teer.translations[locale].sections)
        assert "MitraClip" in text
        assert "PASCAL" in text
        faqs = " ".join(f.answer for f in condition.translations[locale].faqs)
        assert "TEER" in faqs
        assert "TMVR" in " ".join(s.body for s in condition.translations[locale].sections)
    [surgery_faq] = [
        f for f in condition.translations["en"].faqs if f.question.endswith("need surgery?")
    ]
    assert "secondary (functional)" in surgery_faq.answer
    assert "the first step is optimal heart-failure treatment" in surgery_faq.answer

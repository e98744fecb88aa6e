"""Content documents for tests, as editors would send them."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient


def trust() -> dict[str, Any]:
    return {
        "author": {"name": "Test Author", "qualification": "Cardiologist"},
        "sources": [
            {
                "title": "2021 ESC/EACTS Guidelines for the management of valvular heart disease",
                "publisher": "European Heart Journal",
                "url": "https://academic.oup.com/eurheartj/article/43/7/561/6358470",
                "accessed": "2026-10-15",
            }
        ],
    }


def seo(title: str) -> dict[str, str]:
    return {"title": title, "description": f"About {title}"}


def condition(slug: str = "mitral-valve-insufficiency", **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": "condition",
        "slug": slug,
        "icd10": ["I34.0"],
        "specialty": "cardiology",
        "tags": ["heart-valve"],
        "related_treatments": [],
        "related_services": [],
        "trust": trust(),
        "translations": {
            "en": {
                "title": "Mitral valve insufficiency",
                "summary": "The mitral valve does not close properly, so blood flows backwards.",
                "sections": [
                    {
                        "key": "overview",
                        "heading": "Overview",
                        "body": (
                            "Blood leaks back from the **left ventricle** into the left atrium."
                        ),
                    }
                ],
                "symptoms": ["Shortness of breath", "Swollen legs"],
                "seo": seo("Mitral valve insufficiency"),
            },
            "de": {
                "title": "Mitralklappeninsuffizienz",
                "summary": "Die Mitralklappe schließt nicht richtig; Blut fließt zurück.",
                "sections": [
                    {
                        "key": "overview",
                        "heading": "Überblick",
                        "body": "Blut fließt aus der linken Herzkammer in den Vorhof zurück.",
                    }
                ],
                "seo": seo("Mitralklappeninsuffizienz"),
            },
        },
    }
    doc.update(changes)
    return doc


async def create_and_publish(
    client: AsyncTestClient[Litestar], editor: dict[str, str], doc: dict[str, Any]
) -> dict[str, Any]:
    created = await client.post("/v1/editorial/documents", json=doc, headers=editor)
    assert created.status_code == 201, created.text
    collection = {"condition": "conditions", "treatment": "treatments", "service": "services"}
    published = await client.post(
        f"/v1/editorial/{collection[doc['kind']]}/{doc['slug']}/publish", headers=editor
    )
    assert published.status_code == 200, published.text
    body: dict[str, Any] = published.json()
    return body


def treatment(slug: str = "mitral-valve-repair", **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": "treatment",
        "slug": slug,
        "treatment_kind": "surgery",
        "specialty": "cardiology",
        "length_of_stay": {"min_days": 8, "max_days": 12},
        "price": {"from_eur": 28000, "to_eur": 38000, "as_of": "2026-11-01"},
        "related_conditions": ["mitral-valve-insufficiency"],
        "trust": trust(),
        "translations": {
            "en": {
                "title": "Mitral valve repair",
                "summary": "The surgeon repairs the patient's own valve.",
                "price_note": "Operation and hospital stay; travel not included.",
                "seo": seo("Mitral valve repair"),
            },
            "de": {
                "title": "Mitralklappenrekonstruktion",
                "summary": "Die eigene Klappe wird repariert.",
                "price_note": "Operation und Krankenhausaufenthalt; ohne Reise.",
                "seo": seo("Mitralklappenrekonstruktion"),
            },
        },
    }
    doc.update(changes)
    return doc

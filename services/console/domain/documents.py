"""Where a content document stands, as the editor page shows it. Pure."""

from __future__ import annotations

from typing import Any

COLLECTIONS = ("conditions", "treatments", "services")


def standing(document: dict[str, Any]) -> str:
    """draft (never published), scheduled, changed (a draft newer than the published
    revision) or published."""
    published = document.get("published_revision")
    if document.get("scheduled_revision") is not None:
        return "scheduled"
    if published is None:
        return "draft"
    return "changed" if int(document["version"]) > int(published) else "published"

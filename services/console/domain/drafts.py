"""An editor's draft as the console's forms handle it: the text fields of one language taken
from the form into the content API's document, the Markdown preview, the documents of a status
page by page, and a revision diff as marked-up words. Pure."""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import msgspec

from services.console.domain.forms import FormProblem
from services.runtime.core.markdown import clean_html, to_html

# The statuses the document list filters by: where a document stands (documents.standing), and
# the published medical documents the review queue names (unreviewed or overdue).
STATUSES = ("draft", "changed", "scheduled", "published", "needs_review")
PAGE_SIZE = 20


class DiffPart(msgspec.Struct, frozen=True, kw_only=True):
    """A run of words: "same", "removed" or "added"."""

    op: str
    text: str


class FieldDiff(msgspec.Struct, frozen=True, kw_only=True):
    """One changed field of a revision diff: its dotted path and its words, or (for lists,
    numbers and other non-text values) the value before and after as JSON."""

    path: str
    parts: list[DiffPart] | None = None
    before: str = ""
    after: str = ""


def text_of(draft: Mapping[str, Any], locale: str) -> dict[str, Any]:
    """The draft's text in `locale`; FormProblem when the document is not written in it."""
    found = draft.get("translations", {}).get(locale)
    if not isinstance(found, dict):
        raise FormProblem(f"this document has no text in {locale!r}")
    return found


def edited(draft: Mapping[str, Any], locale: str, fields: Mapping[str, str]) -> dict[str, Any]:
    """The whole document with the form's title, summary and section headings and bodies in
    `locale`; every other field as it was (the API replaces the whole draft on save)."""
    body = copy.deepcopy(dict(draft))
    text = text_of(body, locale)
    text["title"] = _required(fields, "title")
    text["summary"] = _required(fields, "summary")
    for index, section in enumerate(text.get("sections", [])):
        section["heading"] = _required(fields, f"section_{index}_heading")
        # Bodies are Markdown: leading blanks matter (an indented code block), trailing do not.
        section["body"] = _required(fields, f"section_{index}_body", strip=False).rstrip()
    return body


def _required(fields: Mapping[str, str], name: str, *, strip: bool = True) -> str:
    value = fields.get(name, "").replace("\r\n", "\n")
    if not value.strip():
        label = name.replace("_", " ")
        raise FormProblem(f"{label} must not be empty")
    return value.strip() if strip else value


def preview(text: Mapping[str, Any]) -> list[dict[str, str]]:
    """Each section's heading and its body rendered as content renders it at publish time
    (the same Markdown rules and sanitiser): HTML safe to embed."""
    return [
        {"heading": str(s.get("heading", "")), "html": to_html(str(s.get("body", "")))}
        for s in text.get("sections", [])
    ]


def served_sections(served: Mapping[str, Any]) -> list[dict[str, str]]:
    """A previewed draft's sections as content rendered them, cleaned again before the console
    embeds them: the console trusts no other service's HTML."""
    return [
        {"heading": str(s.get("heading", "")), "html": clean_html(str(s.get("body_html", "")))}
        for s in served.get("sections") or []
    ]


def page_of(rows: Sequence[Any], page: int) -> tuple[list[Any], bool]:
    """Rows of page `page` (from 1) and whether a next page follows."""
    start = (max(page, 1) - 1) * PAGE_SIZE
    return list(rows[start : start + PAGE_SIZE]), len(rows) > start + PAGE_SIZE


# A word with the blanks after it (leading blanks alone): a lone blank matching everywhere
# would cut every change into runs of single words.
_WORDS = re.compile(r"^\s+|\S+\s*")


def word_diff(before: str, after: str) -> list[DiffPart]:
    """`before` turned into `after` as runs of unchanged, removed and added words."""
    old, new = _WORDS.findall(before), _WORDS.findall(after)
    parts: list[DiffPart] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(DiffPart(op="same", text="".join(old[i1:i2])))
            continue
        if i2 > i1:
            parts.append(DiffPart(op="removed", text="".join(old[i1:i2])))
        if j2 > j1:
            parts.append(DiffPart(op="added", text="".join(new[j1:j2])))
    return parts


def field_diffs(changes: Sequence[Mapping[str, Any]]) -> list[FieldDiff]:
    """The content API's changes (path, before, after) as the diff page shows them: text word
    by word, anything else as JSON before and after."""
    shown = []
    for change in changes:
        before, after = change.get("before"), change.get("after")
        path = str(change.get("path", ""))
        if isinstance(before, str | None) and isinstance(after, str | None):
            shown.append(FieldDiff(path=path, parts=word_diff(before or "", after or "")))
        else:
            shown.append(FieldDiff(path=path, before=_json(before), after=_json(after)))
    return shown


def _json(value: Any) -> str:
    return "" if value is None else msgspec.json.encode(value).decode()


def form_values(text: Mapping[str, Any], fields: Mapping[str, str] | None) -> dict[str, Any]:
    """What the edit form shows: the draft's text, or what the person sent (a preview, a
    refused save) so nothing typed is lost."""
    sent = fields or {}
    sections = [
        {
            "key": s.get("key", ""),
            "heading": sent.get(f"section_{i}_heading", s.get("heading", "")),
            "body": sent.get(f"section_{i}_body", s.get("body", "")),
        }
        for i, s in enumerate(text.get("sections", []))
    ]
    return {
        "title": sent.get("title", text.get("title", "")),
        "summary": sent.get("summary", text.get("summary", "")),
        "sections": sections,
    }


def sign_off_request(fields: dict[str, str]) -> dict[str, Any]:
    """A medical sign-off: the revision read, when it is due again (a date; the API checks
    the range), an optional note."""
    revision = fields.get("revision", "").strip()
    if not revision.isdigit():
        raise FormProblem("revision must be a whole number")
    due = fields.get("next_review_due", "").strip()
    try:
        date.fromisoformat(due)
    except ValueError:
        raise FormProblem("next review due must be a date such as 2027-12-01") from None
    note = fields.get("note", "").strip()
    return {"revision": int(revision), "next_review_due": due, **({"note": note} if note else {})}

"""Each message as its recipient reads it: subject, plain text and HTML, in their language
(right to left for Arabic), from the templates in `templates/` rendered with Jinja2.

The HTML is autoescaped; what a template may show is the message's `params` (ids, dates, a
partner's company name) and the status link, nothing else: no contact or health data reaches a
template, because none is given to it. The one secret a message may carry, a reissued access
token, is put in its params at the moment of sending and never stored."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
import msgspec

from services.notifications.domain.decisions import LANGUAGES, RIGHT_TO_LEFT, language_for
from services.notifications.domain.model import KINDS, PATIENT_KINDS, Composed, Kind, Param

TEMPLATES = Path(__file__).parent / "templates"
# Where a patient reads a support case with their token: `{inquiry_id}` and `{case_id}`
# replaced (NOTIFICATIONS_SUPPORT_URL).
SUPPORT_URL = "http://127.0.0.1:3000/support?inquiry={inquiry_id}&case={case_id}"


class Action(msgspec.Struct, frozen=True, kw_only=True):
    label: str
    url: str


class Rendered(msgspec.Struct, frozen=True, kw_only=True):
    subject: str
    text: str
    html: str
    language: str
    direction: str
    # The SMS: the subject, the lines and the status link, no greeting or footer.
    short: str = ""


class _Blank(dict[str, str]):
    """A placeholder a message has no value for reads as a dash, never as `{name}`."""

    def __missing__(self, key: str) -> str:
        return "—"


class Templates:
    """The templates and the per-language texts, loaded once when the service starts."""

    def __init__(
        self, *, status_url: str, support_url: str = SUPPORT_URL, folder: Path = TEMPLATES
    ) -> None:
        self.status_url = status_url
        self.support_url = support_url
        loader = jinja2.FileSystemLoader(folder)
        self._html = jinja2.Environment(
            loader=loader, autoescape=True, undefined=jinja2.StrictUndefined
        ).get_template("email.html.j2")
        # The plain part is not HTML: escaping would show `&amp;` to the reader.
        self._text = jinja2.Environment(
            loader=loader,
            autoescape=False,  # noqa: S701 - text/plain, never shown as HTML
            undefined=jinja2.StrictUndefined,
        ).get_template("email.txt.j2")
        self._texts: dict[str, dict[str, Any]] = {
            language: json.loads((folder / "messages" / f"{language}.json").read_text("utf-8"))
            for language in LANGUAGES
        }

    def render(self, message: Composed) -> Rendered:
        return self.render_kind(
            message.kind, message.language, message.params, inquiry_id=message.inquiry_id
        )

    def render_kind(
        self, kind: Kind, language: str, params: dict[str, Param], *, inquiry_id: str | None
    ) -> Rendered:
        language = language_for(language)
        texts = self._texts[language]
        entry = texts["kinds"][kind]
        values = _Blank(
            {name: _shown(name, value, texts) for name, value in params.items()}
            | ({"inquiry_id": inquiry_id} if inquiry_id else {})
        )
        patient = kind in PATIENT_KINDS
        # A header holds one line: a value with a line break must not start a header of its own.
        subject = " ".join(entry["subject"].format_map(values).split())
        action = self._action(kind, texts, params, inquiry_id) if patient else None
        context = {
            "subject": subject,
            "greeting": texts["greeting_patient" if patient else "greeting_staff"],
            "lines": [line.format_map(values) for line in entry["lines"]],
            "action": action,
            "footer": texts["footer" if patient else "footer_staff"],
            "language": language,
            "direction": "rtl" if language in RIGHT_TO_LEFT else "ltr",
        }
        short = " ".join([subject + ".", *context["lines"], *([action.url] if action else [])])
        return Rendered(
            subject=subject,
            text=self._text.render(context),
            html=self._html.render(context),
            language=language,
            direction=context["direction"],
            short=" ".join(short.split())[:SMS_LIMIT],
        )

    def _action(
        self, kind: Kind, texts: dict[str, Any], params: dict[str, Param], inquiry_id: str | None
    ) -> Action | None:
        """The patient's link: the case's support page for a support reply, the status page
        for everything else. Neither carries the access token."""
        if not inquiry_id:
            return None
        case_id = params.get("case_id")
        if kind == "support_replied" and isinstance(case_id, str):
            return Action(
                label=texts["support_link"],
                url=self.support_url.format(inquiry_id=inquiry_id, case_id=case_id),
            )
        return Action(label=texts["status_link"], url=self.status_url.format(inquiry_id=inquiry_id))

    def every_template(self) -> list[tuple[Kind, str, Rendered]]:
        """Every kind in every language, rendered with sample values: the preview and its
        test."""
        return [
            (kind, language, self.render_kind(kind, language, SAMPLE_PARAMS, inquiry_id=SAMPLE_ID))
            for kind in KINDS
            for language in LANGUAGES
        ]


def _shown(name: str, value: Param, texts: dict[str, Any]) -> str:
    if value is None:
        return "—"
    if name == "booking_kind":
        return str(texts["booking_kinds"].get(value, value))
    if isinstance(value, str) and name in DATETIME_PARAMS:
        try:
            return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M %Z").strip()
        except ValueError:
            return value
    return str(value)


# Ten concatenated SMS segments of Unicode text (67 characters each) at most.
SMS_LIMIT = 670
DATETIME_PARAMS = frozenset(
    {"valid_until", "raised_at", "report_by", "session_at", "missed_deadline", "acknowledge_by"}
)
SAMPLE_ID = "0b6f3c2e-8d4a-4f3e-9a51-6c1f2d7e8a90"
SAMPLE_PARAMS: dict[str, Param] = {
    "valid_until": "2026-05-01T14:00:00+00:00",
    "offer_version": 1,
    "booking_kind": "transfer",
    "partner_name": "Rhein Shuttle GmbH",
    "booking_id": "5d2b7e1a-3c4f-4a8b-9e6d-1f0a2b3c4d5e",
    "detail": "no active transfer partner left to offer the booking to",
    "raised_at": "2026-04-28T09:30:00+00:00",
    "report_by": "2026-05-01T09:30:00+00:00",
    "partner_id": "rhein-shuttle",
    "incident_id": "7a1e2b3c-4d5e-4f60-8a9b-0c1d2e3f4a5b",
    "affected_cases": 2,
    "affected_bookings": 3,
    "failed_kind": "offer_sent",
    "notification_id": "9c8b7a6f-5e4d-4c3b-8a29-1f0e9d8c7b6a",
    "audience": "patient",
    "reason": "smtp 550",
    "reissue_id": "3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a6b",
    "access_token": "cbp_SAMPLE-not-a-real-token",
    "driver_name": "Jan Berger",
    "driver_phone": "+4915112345678",
    "vehicle": "Mercedes V-Class, F-CB 1234",
    "meeting_point": "FRA arrivals hall, exit A",
    "interpreter_name": "Oksana Melnyk",
    "session_at": "2026-05-04T09:00:00+02:00",
    "carrier": "DHL Express",
    "tracking_number": "CB1234567890DE",
    "service": "logistics",
    "dead_letter_id": 42,
    "consumer": "logistics-partner-replies",
    "subject": "partners.rhein-shuttle.replies",
    "error_type": "ValidationError",
    "attempts": 5,
    "case_id": "4f3e2d1c-0b9a-4877-8665-544332211000",
    "category": "transfer",
    "priority": "urgent",
    "language": "uk",
    "level": "agent",
    "to_person": "Dana Agent",
    "missed_deadline": "2026-04-28T03:15:00+00:00",
    "acknowledge_by": "2026-04-28T03:30:00+00:00",
    "staff_email": "dana@carebridge.example",
    "case_language": "uk",
}

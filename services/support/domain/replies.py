"""Which replies the patient hears of: an agent's, in a case they follow with their access
token (one they opened, or one a coordinator opened for them on the phone), linked to their
inquiry. Partners' and the system's cases are the desk's own business."""

from __future__ import annotations

from contracts.support import CaseReplied
from services.support.domain.model import Author, Case, Origin

# The cases a patient follows: theirs, and those written down for them by a coordinator.
FOLLOWED_BY_PATIENT: frozenset[Origin] = frozenset({"patient", "coordinator"})


def patient_told(case: Case, author: Author) -> CaseReplied | None:
    """The fact that tells the patient to read a new message in the thread, when it is an
    agent's reply in a case they follow; ids and the case's language, never the text."""
    if author != "agent" or case.origin not in FOLLOWED_BY_PATIENT or case.inquiry_id is None:
        return None
    return CaseReplied(
        case_id=str(case.id), inquiry_id=str(case.inquiry_id), language=case.language
    )

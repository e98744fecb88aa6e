"""Support commands: cases from every door, the thread, the rota and targets, escalation."""

from services.support.usecases.cases import (
    acknowledge,
    case_view,
    check_patient,
    open_case,
    open_cases,
    patient_case,
    resolve,
    write,
)
from services.support.usecases.collaborators import Desk, TokenCheck
from services.support.usecases.escalation import escalate_due, next_deadline
from services.support.usecases.facts import (
    apply_erasure,
    apply_logistics_event,
    apply_notification_failed,
)
from services.support.usecases.rota import (
    agents,
    on_call,
    policies,
    replace_rota,
    rota_between,
    save_agent,
    set_policy,
    stats,
)

__all__ = [
    "Desk",
    "TokenCheck",
    "acknowledge",
    "agents",
    "apply_erasure",
    "apply_logistics_event",
    "apply_notification_failed",
    "case_view",
    "check_patient",
    "escalate_due",
    "next_deadline",
    "on_call",
    "open_case",
    "open_cases",
    "patient_case",
    "policies",
    "replace_rota",
    "resolve",
    "rota_between",
    "save_agent",
    "set_policy",
    "stats",
    "write",
]

"""Support: the round-the-clock desk. Cases from patients, partners, coordinators and the system,
an on-call rota, response targets per priority, and escalation when nobody answers in time."""

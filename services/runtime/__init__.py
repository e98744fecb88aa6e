"""Shared runtime of every Carebridge service: settings, logging, database, bus, outbox, inbox,
errors, health, metrics and staff authentication. Services import from here; nothing here
imports a service."""

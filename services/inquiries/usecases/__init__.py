"""The inquiries service's use cases, one module per capability: each loads what the domain needs,
lets it decide, and saves the change with its events in one transaction it owns. Reached from
HTTP, NATS and timers alike."""

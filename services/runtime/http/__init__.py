"""The HTTP shell every service shares: problem+json, validation, preconditions, request context,
metrics and the ASGI entry point."""

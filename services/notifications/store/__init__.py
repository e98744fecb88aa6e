"""SQL of the notifications service."""

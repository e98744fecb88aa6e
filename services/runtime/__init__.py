"""Shared runtime of every Carebridge service, in rooms layered top to bottom (import-linter holds
it): service > access | messaging > http > privacy > core. Services import from here; nothing
here imports a service."""

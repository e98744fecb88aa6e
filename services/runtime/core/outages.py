"""Failures of the infrastructure rather than of a request or a message: PostgreSQL or NATS away,
restarting or overloaded. What meets one waits and retries (consumers nak, loops back off) or,
answering a request, says 503 with Retry-After; it is never a crash, a dead letter or a 500."""

from __future__ import annotations

import asyncpg

TRANSIENT: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.CannotConnectNowError,
    # The server is shutting down (a restart): "terminating connection due to administrator
    # command", raised on the connections it had.
    asyncpg.exceptions.AdminShutdownError,
    # A pooled connection whose server went away mid-statement: its protocol is left in a state
    # it cannot leave ("another operation is in progress"); the pool replaces it.
    asyncpg.InternalClientError,
)
# Seconds a client is asked to wait before trying again while a dependency is away.
RETRY_AFTER = 1

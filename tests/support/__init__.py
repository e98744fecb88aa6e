"""Helpers shared by tests, and the pytest plugins tests/conftest.py loads (servers).

The helpers most tests use are importable from here, so `from tests.support import eventually`
reads the same wherever the helper lives."""

from tests.support.metrics import metrics_page, own_metrics_port
from tests.support.stored import StoredMessage, every_message, every_value, stored_messages
from tests.support.waiting import eventually

__all__ = [
    "StoredMessage",
    "eventually",
    "every_message",
    "every_value",
    "metrics_page",
    "own_metrics_port",
    "stored_messages",
]

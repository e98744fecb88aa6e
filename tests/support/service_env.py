"""What every service needs to start in a test: the shared settings, tuned so background loops
react quickly (`service_settings`), and beyond them its own key ring (each sealing service reads
its own variable) and its own required settings. One place, so a new service is added here once
rather than in every test that starts all of them."""

from __future__ import annotations

from deploy.embedded import free_port
from deploy.stack.runner import DEFINITIONS
from services.runtime.core.settings import ServiceSettings, load_settings
from services.runtime.privacy.crypto import KeyRing
from services.runtime.privacy.sealing import SealingSettings

# Required settings that are not keys, with a value fit for tests.
REQUIRED = {
    "PREVIEW_SECRET": "test-secret",
    "NOTIFICATIONS_ONCALL_EMAIL": "oncall@carebridge.example",
    # Tests that start every service publish sample documents no reviewer signed off, as the
    # local stack does; content/test_reviews.py tests the default (review required).
    "CONTENT_REQUIRE_REVIEW": "false",
}


def every_service_environ(key_id: str = "t1") -> dict[str, str]:
    """Variables under which every service of the stack starts: a fresh ring for each sealing
    service, named as that service reads it, and the other required settings."""
    env = dict(REQUIRED)
    for definition in DEFINITIONS:
        if issubclass(definition.settings_type, SealingSettings):
            env[definition.settings_type.keys_variable()] = KeyRing.generate_setting(key_id)
    return env


def service_settings(database_url: str, nats_url: str, namespace: str) -> ServiceSettings:
    """Settings as a service would read them, tuned so background loops react quickly: the
    `settings` fixture's, and a wider-scoped fixture's."""
    return load_settings(
        ServiceSettings,
        environ={
            "DATABASE_URL": database_url,
            "NATS_URL": nats_url,
            "NATS_NAMESPACE": namespace,
            "RELAY_POLL_INTERVAL": "0.2",
            "CONSUMER_MAX_DELIVER": "3",
            "DB_POOL_MIN": "1",
            # No metrics listener: tests start several services from these settings. A test
            # that reads metrics gives its service a port of its own (own_metrics_port).
            "METRICS_PORT": "0",
        },
        port=free_port(),
    )

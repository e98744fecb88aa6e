"""Settings come from the environment; a bad value names its variable and stops the process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.runtime.core.settings import ServiceSettings, SettingsError, load_settings

VALID = {"DATABASE_URL": "postgresql://carebridge@db:5432/carebridge"}


def test_defaults_fill_what_the_environment_leaves_out() -> None:
    settings = load_settings(ServiceSettings, environ=VALID, port=8001)

    assert settings.port == 8001
    assert settings.nats_url == "nats://127.0.0.1:4222"
    assert settings.log_format == "auto"


def test_environment_overrides_defaults_and_is_converted_to_the_declared_types() -> None:
    env = {**VALID, "PORT": "9001", "RELAY_POLL_INTERVAL": "0.5", "LOG_LEVEL": "debug"}

    settings = load_settings(ServiceSettings, environ=env, port=8001)

    assert (settings.port, settings.relay_poll_interval, settings.log_level) == (9001, 0.5, "debug")


def test_nats_url_names_one_server_or_the_nodes_of_a_cluster() -> None:
    nodes = "nats://10.0.0.1:4222,nats://10.0.0.2:4222,tls://nats-2.example:4222"

    settings = load_settings(ServiceSettings, environ={**VALID, "NATS_URL": nodes}, port=8001)

    assert settings.nats_url == nodes


def test_empty_variables_count_as_unset() -> None:
    settings = load_settings(ServiceSettings, environ={**VALID, "PORT": ""}, port=8001)

    assert settings.port == 8001


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "DATABASE_URL is required but not set"),
        ({**VALID, "PORT": "eighty"}, "PORT is invalid: Expected `int`, got `str`"),
        ({**VALID, "PORT": "70000"}, "PORT is invalid: Expected `int` <= 65535"),
        ({**VALID, "LOG_LEVEL": "loud"}, "LOG_LEVEL is invalid: Invalid enum value 'loud'"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL is invalid: Expected `str` matching regex"),
        ({**VALID, "NATS_URL": "http://x"}, "NATS_URL is invalid: Expected `str` matching regex"),
        ({**VALID, "NATS_URL": "nats://a:4222,b:4222"}, "NATS_URL is invalid"),
        ({**VALID, "NATS_URL": "nats://a:4222,,nats://b:4222"}, "NATS_URL is invalid"),
        ({**VALID, "NATS_URL": "nats://a:4222, nats://b:4222"}, "NATS_URL is invalid"),
        ({**VALID, "NATS_URL": "nats://a:4222,"}, "NATS_URL is invalid"),
        ({**VALID, "NATS_NAMESPACE": "Has.Dots"}, "NATS_NAMESPACE is invalid"),
        ({**VALID, "DB_POOL_MIN": "5", "DB_POOL_MAX": "2"}, "DB_POOL_MIN is invalid"),
        ({**VALID, "NATS_STREAM_REPLICAS": "7"}, "NATS_STREAM_REPLICAS is invalid"),
        (
            {**VALID, "RELAY_POLL_INTERVAL": "0"},
            "RELAY_POLL_INTERVAL is invalid: Expected `float` >",
        ),
    ],
)
def test_a_bad_setting_is_reported_by_its_variable_name(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(ServiceSettings, environ=env, port=8001)

    assert str(error.value).startswith(message)


def test_a_service_started_with_a_bad_setting_exits_2_naming_the_variable() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "PORT"}}
    env.update(VALID, PORT="not-a-port")

    result = subprocess.run(
        [sys.executable, "-m", "services.content"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "configuration error: PORT is invalid: Expected `int`, got `str`"
    )


def test_a_setting_can_come_from_a_file_and_the_variable_wins(tmp_path: Path) -> None:
    secret = tmp_path / "database_url"
    secret.write_text("postgresql://carebridge:s3cret@db:5432/carebridge\n")

    from_file = load_settings(ServiceSettings, environ={"DATABASE_URL_FILE": str(secret)}, port=1)
    both = load_settings(
        ServiceSettings, environ={**VALID, "DATABASE_URL_FILE": str(secret)}, port=1
    )

    assert from_file.database_url == "postgresql://carebridge:s3cret@db:5432/carebridge"
    assert both.database_url == VALID["DATABASE_URL"]


def test_an_unreadable_settings_file_names_its_variable(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here"
    with pytest.raises(SettingsError, match=r"^DATABASE_URL_FILE is invalid: cannot read .*"):
        load_settings(ServiceSettings, environ={"DATABASE_URL_FILE": str(missing)}, port=1)


def test_a_bad_value_from_a_file_is_refused_like_one_from_the_environment(tmp_path: Path) -> None:
    bad = tmp_path / "port"
    bad.write_text("eighty\n")
    with pytest.raises(SettingsError, match="PORT is invalid"):
        load_settings(ServiceSettings, environ={**VALID, "PORT_FILE": str(bad)})

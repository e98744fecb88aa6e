"""Logs carry no personal data and no secrets: known fields are redacted, and tracebacks keep
frames and exception types but never messages or local variables."""

from __future__ import annotations

import pytest
import structlog

from services.runtime.core.log import configure_logging


def raise_with_personal_data() -> None:
    token = "cbs_SECRET_TOKEN"  # noqa: F841 - a local a rich traceback would print
    email = "ada@example.org"
    raise ValueError(f"invalid input for query argument $1: {email!r}")


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_exceptions_are_logged_without_their_messages_or_locals(
    capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    configure_logging(service="test", fmt=fmt)  # type: ignore[arg-type]
    try:
        raise_with_personal_data()
    except ValueError:
        structlog.get_logger().exception("handler failed")

    logged = capsys.readouterr().err
    assert "handler failed" in logged
    assert "ValueError" in logged
    assert "raise_with_personal_data" in logged
    assert "ada@example.org" not in logged
    assert "cbs_SECRET_TOKEN" not in logged


def test_known_personal_and_secret_fields_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(service="test", fmt="json")

    structlog.get_logger().info(
        "inquiry received", full_name="Olena Kovalenko", email="o@example.org", inquiry_id="i-1"
    )

    logged = capsys.readouterr().err
    assert "Olena" not in logged
    assert "o@example.org" not in logged
    assert '"inquiry_id":"i-1"' in logged
    assert '"full_name":"[redacted]"' in logged

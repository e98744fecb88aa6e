"""The local stack as a user runs it: a cold start, staff tokens that work, reference partners
registered and listening, one runner per data folder, Ctrl-C leaving no process behind, and a
warm start that keeps its data."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from services.runtime.access import staff
from tests.e2e.local_stack import REPO, STOP_DEADLINE, Runner, Stacks
from tests.logistics_samples import transfer

pytestmark = pytest.mark.e2e

SERVICES = {"content", "inquiries", "logistics", "support", "notifications"}
PARTNERS = {
    "rhein-shuttle": ["transfer"],
    "medilingua": ["interpreter"],
    "hessen-pharma-express": ["shipment"],
}
# The reference partner on the webhook channel: no NATS user, an HTTP endpoint of its own.
HTTP_PARTNER = "taunus-transfer"
# The stack issues a token for every role (a lead_coordinator among them).
ROLES = set(staff.ROLES)


def test_the_local_stack_starts_serves_stops_cleanly_and_keeps_its_data(stacks: Stacks) -> None:
    cold = stacks.start()
    manifest, cold_seconds = stacks.wait_ready(cold)
    _assert_manifest(manifest, cold)
    _assert_services_answer(manifest)
    _assert_partners_registered_and_listening(manifest, cold)
    _assert_served_on_uvloop(cold)
    _deactivate_a_partner(manifest, "rhein-shuttle")
    _assert_the_http_partner_takes_a_transfer(manifest)
    _assert_second_runner_refused(stacks)
    _stop_and_assert_nothing_left(cold, stacks.data_dir)

    warm = stacks.start()
    warm_manifest, warm_seconds = stacks.wait_ready(warm)
    assert warm_manifest["credentials"] == manifest["credentials"]
    _assert_services_answer(warm_manifest)
    # Registered again on start, so the deactivated one is back as the stack defines it.
    _assert_partners_registered_and_listening(warm_manifest, warm)
    _stop_and_assert_nothing_left(warm, stacks.data_dir)

    print(
        f"\nlocal stack time to ready (launch to stack.json): "
        f"cold {cold_seconds:.1f}s, warm {warm_seconds:.1f}s"
    )


def _assert_manifest(manifest: dict[str, Any], runner: Runner) -> None:
    assert set(manifest) == {
        "services",
        "database_url",
        "nats_url",
        "credentials",
        "partners",
        "pid",
        "started_at",
        "metrics",
        "mail",
        "sms",
        "site",
        "console",
    }
    assert set(manifest["services"]) == SERVICES
    # The operator console, a client of the services, is not among them.
    assert httpx.get(f"{manifest['console']}/health/ready").status_code == 200
    # Each service's metrics on a listener of its own, never on its API port.
    assert set(manifest["metrics"]) == SERVICES
    assert not set(manifest["metrics"].values()) & set(manifest["services"].values())
    # The SMTP catcher on loopback, and where the caught mail and SMS are kept.
    assert manifest["mail"]["smtp"].startswith("smtp://127.0.0.1:")
    assert (manifest["mail"]["dir"], manifest["sms"]["dir"]) == (".stack/mail", ".stack/sms")
    assert manifest["pid"] == runner.process.pid
    staff = manifest["credentials"]["staff"]
    assert set(staff) == ROLES
    assert len(set(staff.values())) == len(ROLES)
    assert set(manifest["credentials"]["api_keys"]) == {"local-site"}
    assert set(manifest["credentials"]["publishable_keys"]) == {"local-site"}
    assert manifest["credentials"]["api_keys"]["local-site"].startswith("cb_sk_")
    assert manifest["credentials"]["publishable_keys"]["local-site"].startswith("cb_pk_")
    # NATS runs with authorization: each partner has its own user, inbox prefix and consumer.
    nats_port = manifest["nats_url"].rsplit(":", 1)[1]
    for partner, access in manifest["credentials"]["partners"].items():
        assert access["nats_url"].startswith(f"nats://{partner}:")
        assert access["nats_url"].endswith(f"@127.0.0.1:{nats_port}")
        assert access["inbox_prefix"] == f"_INBOX_{partner}"
        assert access["durable"] == f"partner-{partner}"
    assert set(manifest["credentials"]["partners"]) == set(PARTNERS)
    assert {p: entry["kinds"] for p, entry in manifest["partners"].items()} == PARTNERS


def _assert_services_answer(manifest: dict[str, Any]) -> None:
    staff = manifest["credentials"]["staff"]
    for url in manifest["services"].values():
        assert httpx.get(f"{url}/health/ready").status_code == 200
        letters = f"{url}/admin/dead-letters"
        as_admin = httpx.get(letters, headers={"Authorization": f"Bearer {staff['admin']}"})
        as_editor = httpx.get(letters, headers={"Authorization": f"Bearer {staff['editor']}"})
        assert as_admin.status_code == 200, as_admin.text
        assert as_editor.status_code == 403, as_editor.text
    # The seed content is published and served, localised, as a third-party site reads it.
    page = httpx.get(
        f"{manifest['services']['content']}/v1/conditions/mitral-valve-insufficiency",
        headers={"Accept-Language": "de-DE,de;q=0.9"},
    )
    assert page.status_code == 200, page.text
    assert page.json()["title"] == "Mitralklappeninsuffizienz"
    assert page.headers["content-language"] == "de"
    # Sample content no reviewer signed off: published locally, and it says so.
    assert page.json()["trust"]["review"]["status"] == "unreviewed"
    # A local site's page reads with its publishable key, within its own limit, from its dev
    # origin; the same key without an Origin (curl) is refused, and so is the server's secret
    # key sent from a page.
    conditions = f"{manifest['services']['content']}/v1/conditions"
    publishable = manifest["credentials"]["publishable_keys"]["local-site"]
    secret = manifest["credentials"]["api_keys"]["local-site"]
    # The example site reads the same key and the APIs' URLs from its config.json.
    config = httpx.get(f"{manifest['site']}/config.json").json()
    assert config["publishable_key"] == publishable
    assert config["content"] == manifest["services"]["content"]
    assert config["inquiries"] == manifest["services"]["inquiries"]
    page_origin = {"Origin": "http://localhost:3000"}
    site = httpx.get(conditions, headers={"X-API-Key": publishable} | page_origin)
    assert site.status_code == 200, site.text
    assert site.headers["ratelimit-policy"] == '"default";q=600;w=60'
    assert site.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert httpx.get(conditions, headers={"X-API-Key": publishable}).status_code == 403
    assert httpx.get(conditions, headers={"X-API-Key": secret} | page_origin).status_code == 403
    assert httpx.get(conditions, headers={"X-API-Key": secret}).status_code == 200


def _assert_served_on_uvloop(runner: Runner) -> None:
    """Granian takes whichever loop is installed unless told; each service's ready line and
    each partner's first line say which loop it got."""
    lines = runner.output().splitlines()
    for source, line_says in [(s, "service ready") for s in SERVICES] + [
        (p, "waiting for offers") for p in PARTNERS
    ]:
        started = [line for line in lines if line.startswith(f"{source} ") and line_says in line]
        assert started, runner.output()
        assert all("uvloop" in line for line in started), started


def _assert_partners_registered_and_listening(manifest: dict[str, Any], runner: Runner) -> None:
    coordinator = manifest["credentials"]["staff"]["coordinator"]
    registry = httpx.get(
        f"{manifest['services']['logistics']}/v1/partners",
        headers={"Authorization": f"Bearer {coordinator}"},
    )
    assert registry.status_code == 200, registry.text
    registered = {p["id"]: p for p in registry.json() if p["id"] in PARTNERS}
    assert {p: entry["kinds"] for p, entry in registered.items()} == PARTNERS
    assert all(entry["active"] for entry in registered.values())
    assert "FRA" in registered["rhein-shuttle"]["coverage"]["airports"]
    webhook = next(p for p in registry.json() if p["id"] == HTTP_PARTNER)
    endpoint = manifest["credentials"]["http_partners"][HTTP_PARTNER]
    assert webhook["channel"] == {"type": "webhook", "url": endpoint["url"]}
    assert endpoint["signing_secret"].startswith("whsec_")
    # Its token reads its (empty) list of open offers on the reply API.
    offers = httpx.get(
        f"{manifest['services']['logistics']}/v1/partner/offers",
        headers={"Authorization": f"Bearer {endpoint['token']}"},
    )
    assert offers.status_code == 200, offers.text
    assert {"uk", "de"} <= set(registered["medilingua"]["languages"])

    def listening() -> bool:
        # Each partner's own lines, prefixed with its name, once it has bound its consumer.
        lines = runner.output().splitlines()
        return all(
            any(line.startswith(f"{p} ") and "waiting for offers" in line for line in lines)
            for p in PARTNERS
        ) and any(
            line.startswith(f"{HTTP_PARTNER} ") and "partner started" in line for line in lines
        )

    deadline = time.monotonic() + 20
    while not listening():
        assert time.monotonic() < deadline, runner.output()
        time.sleep(0.1)


def _deactivate_a_partner(manifest: dict[str, Any], partner: str) -> None:
    coordinator = manifest["credentials"]["staff"]["coordinator"]
    response = httpx.patch(
        f"{manifest['services']['logistics']}/v1/partners/{partner}",
        json={"active": False},
        headers={"Authorization": f"Bearer {coordinator}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False


def _assert_the_http_partner_takes_a_transfer(manifest: dict[str, Any]) -> None:
    """With Rhein Shuttle inactive, a transfer goes to the HTTP partner: a signed webhook out,
    its answers over the reply API, to completion."""
    logistics = manifest["services"]["logistics"]
    coordinator = {"Authorization": f"Bearer {manifest['credentials']['staff']['coordinator']}"}
    booked = httpx.post(
        f"{logistics}/v1/bookings",
        json={"inquiry_id": None, "kind": "transfer", "details": transfer()},
        headers=coordinator,
    )
    assert booked.status_code == 201, booked.text
    booking_id = booked.json()["booking"]["id"]
    deadline = time.monotonic() + 40
    while True:
        booking = httpx.get(f"{logistics}/v1/bookings/{booking_id}", headers=coordinator).json()
        state = (booking["booking"]["partner_id"], booking["booking"]["status"])
        if state == (HTTP_PARTNER, "completed"):
            return
        assert time.monotonic() < deadline, state
        time.sleep(0.2)


def _assert_second_runner_refused(stacks: Stacks) -> None:
    started = time.monotonic()
    second = subprocess.run(
        stacks.command(),
        check=False,
        cwd=REPO,
        env=stacks.env,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert second.returncode != 0
    assert "another stack is already running" in second.stdout + second.stderr
    assert time.monotonic() - started < 10


def _stop_and_assert_nothing_left(runner: Runner, data_dir: Path) -> None:
    started = _descendants(runner)
    runner.interrupt()
    try:
        code = runner.process.wait(STOP_DEADLINE)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the stack did not stop within {STOP_DEADLINE:.0f}s:\n{runner.output()}")
    assert code == 0, runner.output()
    _, alive = psutil.wait_procs(started, timeout=5)
    assert not alive, f"left running: {[p.pid for p in alive]}\n{runner.output()}"
    assert not (data_dir / "stack.json").exists()
    assert not (data_dir / "site" / "config.json").exists()
    # Services stop before the servers they use, so a clean stop prints no error.
    assert "Traceback" not in runner.output(), runner.output()


def _descendants(runner: Runner) -> list[psutil.Process]:
    processes = psutil.Process(runner.process.pid).children(recursive=True)
    commands = " ".join(" ".join(_cmdline(p)) for p in processes)
    # Guards the leftover check against passing because it looked at nothing.
    for part in ("services.content", "services.inquiries", "services.logistics", "nats-server"):
        assert part in commands
    assert commands.count("services.partner") == len(PARTNERS) + 1
    assert "postgres" in commands
    return processes


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.NoSuchProcess:
        return []

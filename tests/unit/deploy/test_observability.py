"""deploy/observability/: the alert rules pass promtool, and every metric a rule or a dashboard
panel names is one a service exports (read from each app's own registry, built in-process)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from deploy.api_documents import SERVICES, offline_app

ROOT = Path(__file__).resolve().parents[3]
OBSERVABILITY = ROOT / "deploy" / "observability"
RULES = OBSERVABILITY / "alerts.yml"
DASHBOARDS = sorted((OBSERVABILITY / "dashboards").glob("*.json"))

# What a PromQL expression holds besides metric names: strings, label matchers, ranges,
# grouping clauses, and words of the language.
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_WORD = re.compile(r"(?<![\w$.])([A-Za-z_:][\w:]*)\b(?!\s*\()")
_KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "inf", "nan", "le"})
_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads."""
    bare = _GROUPING.sub(" ", _RANGES.sub(" ", _MATCHERS.sub(" ", _STRINGS.sub(" ", expr))))
    return {word for word in _WORD.findall(bare) if word.lower() not in _KEYWORDS}


def exported(registry: CollectorRegistry) -> set[str]:
    """The series names a registry exports, labelled children or not yet."""
    names: set[str] = set()
    for family in registry.collect():
        names |= {family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",))}
        names |= {sample.name for sample in family.samples}
    return names


@pytest.fixture(scope="module")
def exported_by_services() -> set[str]:
    names: set[str] = set()
    for definition in SERVICES:
        names |= exported(offline_app(definition).state.metrics.registry)
    return names


def rule_expressions() -> list[tuple[str, str]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [(rule["alert"], rule["expr"]) for group in groups for rule in group["rules"]]


def panel_expressions(path: Path) -> list[tuple[str, str]]:
    board: dict[str, Any] = json.loads(path.read_text())
    return [
        (f"{path.name}: {panel['title']}", target["expr"])
        for panel in board["panels"]
        for target in panel["targets"]
    ]


def test_the_expression_parser_finds_metrics_and_nothing_else() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (job, le) (rate(a_seconds_bucket{job="$job",'
        'status=~"5.."}[5m]))) / ignoring(x) b_total offset 5m > 1 and bool c'
    )
    assert metric_names(expr) == {"a_seconds_bucket", "b_total", "c"}


def test_every_alert_rule_names_only_metrics_a_service_exports(
    exported_by_services: set[str],
) -> None:
    rules = rule_expressions()
    assert len(rules) >= 8
    unknown = {
        name: sorted(metric_names(expr) - exported_by_services)
        for name, expr in rules
        if metric_names(expr) - exported_by_services
    }
    assert unknown == {}
    named = set().union(*(metric_names(expr) for _, expr in rules))
    for watched in (
        "outbox_oldest_age_seconds",
        "consumer_lag",
        "dead_letters_open",
        "http_requests_total",
        "events_published_total",
    ):
        assert watched in named


def test_every_dashboard_panel_names_only_metrics_a_service_exports(
    exported_by_services: set[str],
) -> None:
    assert {p.stem for p in DASHBOARDS} == {d.name for d in SERVICES}, "one dashboard a service"
    unknown = {
        title: sorted(metric_names(expr) - exported_by_services)
        for path in DASHBOARDS
        for title, expr in panel_expressions(path)
        if metric_names(expr) - exported_by_services
    }
    assert unknown == {}


def test_a_metric_no_service_exports_is_caught(exported_by_services: set[str]) -> None:
    assert metric_names("rate(bookings_unassigned_total[5m])") - exported_by_services == {
        "bookings_unassigned_total"
    }


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_alert_rules_pass_promtool() -> None:
    checked = subprocess.run(
        ["promtool", "check", "rules", str(RULES)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

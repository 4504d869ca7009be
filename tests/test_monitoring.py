"""config/monitoring/: the alert rules parse and name only metrics the service exports, and so
does every query of the Grafana dashboard (a renamed metric must break this test, not an alert)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from responder import config
from responder.errors import ConfigError
from responder.service import metrics

MONITORING = Path(__file__).resolve().parent.parent / "config" / "monitoring"
METRIC = re.compile(r"\bresponder_[a-z_]+\b")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "info": ("_info",)}
EXPECTED_ALERTS = {
    "ResponderDown",
    "ResponderImapSessionDown",
    "ResponderInboxNotChecked",
    "ResponderAcknowledgmentsPending",
    "ResponderSmtpFailingForGood",
    "ResponderMessagesQuarantined",
    "ResponderSlowAcknowledgments",
    "ResponderGlobalCapHit",
}


def exported() -> set[str]:
    """Every series name the service can export (labelled counters have no sample until used)."""
    names = set()
    for family in metrics.REGISTRY.collect():
        names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
    return names


def test_exported_names_follow_prometheus_conventions() -> None:
    names = exported()
    assert {
        "responder_messages_seen_total",
        "responder_acknowledgments_total",
        "responder_messages_refused_total",
        "responder_messages_routed_total",
        "responder_follow_ups_total",
        "responder_caps_hit_total",
        "responder_messages_quarantined_total",
        "responder_acknowledgment_latency_seconds_bucket",
        "responder_pending_acknowledgments",
        "responder_imap_reconnects_total",
        "responder_smtp_failures_total",
        "responder_inbox_check_age_seconds",
        "responder_build_info",
    } <= names
    assert all(name.startswith("responder_") for name in names)


def test_alert_rules_parse_and_use_exported_metrics() -> None:
    rules = yaml.safe_load((MONITORING / "responder.rules.yml").read_text(encoding="utf-8"))
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert {rule["alert"] for rule in alerts} == EXPECTED_ALERTS
    for rule in alerts:
        assert rule["expr"] and rule["labels"]["severity"] in ("critical", "warning"), rule
        assert rule["annotations"]["summary"], rule
        assert set(METRIC.findall(rule["expr"])) <= exported(), rule["alert"]
    used = {name for rule in alerts for name in METRIC.findall(rule["expr"])}
    assert len(used) >= 6


def test_dashboard_queries_only_exported_metrics() -> None:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text(encoding="utf-8"))
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = {name for expr in exprs for name in METRIC.findall(expr)}
    assert used and used <= exported(), sorted(used - exported())
    unused = {n.removesuffix("_bucket") for n in exported()} - {
        n.removesuffix("_bucket") for n in used
    }
    assert not {n for n in unused if not n.endswith(("_count", "_sum"))}, unused


def test_listen_and_log_format_are_validated_naming_the_key() -> None:
    assert config.load(environ={}).metrics.listen == ""  # off by default
    ok = config.load(environ={"RESPONDER_METRICS_LISTEN": "[::1]:9464"})
    assert ok.metrics.listen == "[::1]:9464"
    for env, key in (
        ({"RESPONDER_METRICS_LISTEN": "9464"}, "metrics.listen"),
        ({"RESPONDER_METRICS_LISTEN": "127.0.0.1:99999"}, "metrics.listen"),
        ({"RESPONDER_SERVICE_LOG_FORMAT": "xml"}, "service.log_format"),
    ):
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            config.load(environ=env)


def test_reference_keywords_are_off_by_default_and_work_when_on() -> None:
    from responder.config import FoldersConfig
    from responder.service.filing import Filer

    assert config.load(environ={}).folders.reference_keywords is False
    off = Filer(FoldersConfig(), None, None)  # type: ignore[arg-type]
    on = Filer(FoldersConfig(reference_keywords=True), None, None)  # type: ignore[arg-type]
    assert off.flags_for("reply", "billing", True, "K7Q2M9XA") == [
        "billing",
        "\\Flagged",
        "priority",
    ]
    assert on.flags_for("reply", "billing", False, "K7Q2M9XA") == ["billing", "#K7Q2M9XA"]

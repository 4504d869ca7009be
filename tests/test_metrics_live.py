"""The running service's /metrics, /healthz and JSON log lines, against the real stack.

One service, ten messages (seven customers, a bounce, an out-of-office, a follow-up):
the counters must say exactly that, the latency histogram must hold one sample per
acknowledgment, /healthz must follow Dovecot going away and coming back, and no log
line may contain the password (one with characters that quoting and escaping mangle).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from servicekit import RunningService, customer_mail, wait_until

from responder.devstack.demo import bounce_message, out_of_office_message
from responder.devstack.mailstack import MailStack
from responder.devstack.mailstack._procs import free_ports

pytestmark = pytest.mark.stack
SUPPORT = "support@example.test"
# Quotes, a backslash, format specifiers, shell and HTML metacharacters, spaces; no ':' or
# newline (Dovecot's passwd-file) and ASCII only (imaplib's LOGIN cannot send anything else).
PASSWORD = "p$$ \"w0rd\" %s {0} \\n '&<x>' #!"
REPO = Path(__file__).resolve().parent.parent
ACK = ["HEADER", "Auto-Submitted", ""]
COMPLAINTS = {
    f"customer{i}@example.test": (subject, body)
    for i, (subject, body) in enumerate(
        [
            ("Double charge", "You charged my card twice for invoice 8812, please refund."),
            ("Order never arrived", "My order 5531 has not arrived after two weeks."),
            ("Cannot log in", "I cannot log in to my account, the reset link never comes."),
            ("App crashes", "The app crashes every time I open the settings page."),
            ("Wrong size", "The shoes in order 7710 are the wrong size."),
            ("Refund please", "Please refund the second payment on my invoice."),
            ("Question", "How do I change the address on my account?"),
        ],
        start=1,
    )
}


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


def _samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, text = _get(url + "/metrics")
    assert status == 200, text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _total(samples: dict, name: str) -> float:  # type: ignore[type-arg]
    return sum(value for (sample, _), value in samples.items() if sample == name)


def _health_becomes(url: str, status: int, timeout: float) -> Callable[[], float]:
    started = time.monotonic()
    wait_until(lambda: _get(url + "/healthz")[0] == status, timeout, f"/healthz {status}")
    return lambda: time.monotonic() - started


def test_metrics_health_and_logs(make_mailstack: Callable[..., MailStack], tmp_path: Path) -> None:
    stack = make_mailstack(password=PASSWORD)
    port = free_ports(1)[0]
    url = f"http://127.0.0.1:{port}"
    service = RunningService(
        stack,
        tmp_path,
        env={
            "RESPONDER_METRICS_LISTEN": f"127.0.0.1:{port}",
            "RESPONDER_SERVICE_LOG_FORMAT": "json",
            "RESPONDER_SERVICE_LOG_LEVEL": "DEBUG",
            "PYTHONPATH": str(REPO),  # this tree's responder, whatever the venv has installed
        },
    )
    service.start()
    try:
        assert _get(url + "/healthz")[0] == 200
        for customer, (subject, body) in COMPLAINTS.items():
            stack.send(customer_mail(customer, SUPPORT, subject, body), customer, [SUPPORT])
        stack.send(bounce_message(), "", [SUPPORT])
        stack.send(out_of_office_message(), "customer1@example.test", [SUPPORT])
        first = stack.wait_for("customer1@example.test", count=1, timeout=15, criteria=ACK)
        ack_id = next(
            line.split(":", 1)[1].strip()
            for line in first[0].decode().splitlines()
            if line.lower().startswith("message-id:")
        )
        for customer in COMPLAINTS:
            stack.wait_for(customer, count=1, timeout=15, criteria=ACK)
        follow_up = customer_mail(
            "customer1@example.test",
            SUPPORT,
            "Re: Double charge",
            "Here is the bank statement.",
            In_Reply_To=ack_id,
            References=ack_id,
        )
        stack.send(follow_up, "customer1@example.test", [SUPPORT])
        wait_until(
            lambda: _value(_samples(url), "responder_follow_ups_total") == 1, 15, "the follow-up"
        )
        wait_until(
            lambda: _total(_samples(url), "responder_messages_filed_total") == 10, 10, "all filed"
        )

        samples = _samples(url)
        assert _value(samples, "responder_messages_seen_total") == 10
        assert _value(samples, "responder_acknowledgments_total") == 7
        assert _value(samples, "responder_messages_refused_total", reason="delivery-report") == 1
        assert _total(samples, "responder_messages_refused_total") == 2
        assert _total(samples, "responder_messages_routed_total") == 8
        assert (
            _value(samples, "responder_messages_routed_total", queue="billing", priority="no") >= 1
        )
        assert _value(samples, "responder_messages_quarantined_total") == 0
        assert _total(samples, "responder_caps_hit_total") == 0
        assert _value(samples, "responder_pending_acknowledgments") == 0
        assert _value(samples, "responder_imap_session_up") == 1
        assert _value(samples, "responder_inbox_check_age_seconds") < 5
        assert _value(samples, "responder_acknowledgment_latency_seconds_count") == 7
        latency = _value(samples, "responder_acknowledgment_latency_seconds_sum")
        assert 0 < latency < 7 * 10, latency  # INTERNALDATE has whole seconds: each < 10 s
        assert _total(samples, "responder_build_info") == 1

        # `responder status` beside the running service (read-only ledger, heartbeat file)
        env = service.environment() | {"PYTHONPATH": str(REPO)}
        status = subprocess.run(
            [sys.executable, "-m", "responder", "status", "--json"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert status.returncode == 0, status.stderr
        report = json.loads(status.stdout)
        assert report["service"]["running"] and report["service"]["imap_connected"]
        assert report["last_hour"]["total_acknowledgments"] == 7
        assert report["last_hour"]["total_refusals"] == 2
        assert report["pending"]["count"] == 0 and report["quarantined"]["count"] == 0

        stack.stop_dovecot()
        assert _health_becomes(url, 503, 10)() < 10
        assert _value(_samples(url), "responder_imap_session_up") == 0
        stack.start_dovecot()
        _health_becomes(url, 200, 30)
        assert _value(_samples(url), "responder_imap_reconnects_total") >= 1
    finally:
        service.stop()

    lines = service.log().splitlines()
    assert lines, "the service logged nothing"
    assert not [line for line in lines if PASSWORD in line or "w0rd" in line]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    decided = [e for e in entries if e.get("key") and e.get("queue")]
    assert len(decided) == 10, decided
    assert {"key", "reference", "queue", "message"} <= set(decided[0])
    assert {e.get("reason") for e in decided} >= {"delivery-report", "follow-up"}

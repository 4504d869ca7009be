"""What the service has done, as Prometheus metrics; and whether it is healthy right now.

The service calls one function here per event (a single line at each spot in
loop/outbox/filing/imap, so those stay readable); nothing here changes what the
service does. Names follow Prometheus conventions: prefix `responder_`, counters
end in `_total`, durations are in seconds. The registry is our own, so tests and
`responder check` in the same process never collide with anything else. Served
over HTTP by `responder.service.monitor` when `[metrics] listen` is set.
"""

from __future__ import annotations

import platform
import sqlite3
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from responder.service.ledger import NewMessage

T = TypeVar("T")
REGISTRY = CollectorRegistry(auto_describe=True)
# From a customer's mail reaching the INBOX to SMTP accepting our acknowledgment.
LATENCY_BUCKETS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)
MAX_TRACKED = 20_000  # arrivals remembered for latency; beyond that the oldest are dropped

SEEN = Counter("responder_messages_seen", "Messages fetched from the INBOX.", registry=REGISTRY)
ACKS = Counter(
    "responder_acknowledgments", "Acknowledgments accepted by the SMTP server.", registry=REGISTRY
)
REFUSED = Counter(
    "responder_messages_refused",
    "Messages not acknowledged, by guard reason (bounce, auto-reply, list, spam, …).",
    ["reason"],
    registry=REGISTRY,
)
ROUTED = Counter(
    "responder_messages_routed",
    "Customer messages routed to a queue (new, follow-ups and capped alike).",
    ["queue", "priority"],
    registry=REGISTRY,
)
FOLLOW_UPS = Counter(
    "responder_follow_ups",
    "Messages joined to a conversation already acknowledged.",
    registry=REGISTRY,
)
CAPS = Counter(
    "responder_caps_hit",
    "Acknowledgments withheld by a cap (sender-cap, global-cap).",
    ["cap"],
    registry=REGISTRY,
)
QUARANTINED = Counter(
    "responder_messages_quarantined",
    "Messages moved to Quarantine after repeated processing failures.",
    registry=REGISTRY,
)
FILED = Counter(
    "responder_messages_filed",
    "Messages moved out of the INBOX, by folder.",
    ["folder"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "responder_acknowledgment_latency_seconds",
    "From the message's IMAP INTERNALDATE to SMTP accepting its acknowledgment.",
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
RECONNECTS = Counter(
    "responder_imap_reconnects", "IMAP connections opened after the first.", registry=REGISTRY
)
SMTP_FAILURES = Counter(
    "responder_smtp_failures",
    "Acknowledgments SMTP did not take: transient (queued, retried) or permanent (given up).",
    ["kind"],
    registry=REGISTRY,
)
BUILD = Info("responder_build", "Version of responder and Python.", registry=REGISTRY)


class Health:
    """The IMAP session's state and the last successful INBOX check, shared with the HTTP thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.connected = False
        self.connections = 0
        self.last_check = 0.0  # time.time() of the last successful IMAP exchange on the INBOX
        self.changed = threading.Event()  # the session went up or down: rewrite the heartbeat

    def age(self, now: float | None = None) -> float:
        """Seconds since the last successful check (infinite before the first)."""
        with self.lock:
            last = self.last_check
        return float("inf") if not last else max(0.0, (now or time.time()) - last)


HEALTH = Health()
_arrivals: dict[str, float] = {}
_arrivals_lock = threading.Lock()
_ledger: dict[str, Path] = {}  # the running service's ledger, for the pending gauge


def watch_ledger(path: Path) -> None:
    _ledger["path"] = path


def _acks_in_state(state: str) -> float:
    """Counted in the ledger at scrape time (read-only, the HTTP thread's own connection)."""
    path = _ledger.get("path")
    if path is None or not path.is_file():
        return 0.0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        row = db.execute("SELECT COUNT(*) FROM messages WHERE ack_state = ?", (state,)).fetchone()
        return float(row[0])
    except sqlite3.Error:
        return float("nan")
    finally:
        db.close()


Gauge(
    "responder_pending_acknowledgments",
    "Acknowledgments recorded but not yet accepted by SMTP (an outage queues them).",
    registry=REGISTRY,
).set_function(lambda: _acks_in_state("pending"))
Gauge(
    "responder_uncertain_acknowledgments",
    "Acknowledgments whose end of DATA got no reply: the relay may have them (see README).",
    registry=REGISTRY,
).set_function(lambda: _acks_in_state("uncertain"))
Gauge(
    "responder_imap_session_up", "1 while the IMAP session is logged in.", registry=REGISTRY
).set_function(lambda: float(HEALTH.connected))
Gauge(
    "responder_inbox_check_age_seconds",
    "Seconds since the last successful INBOX check (search, IDLE, NOOP, fetch, move).",
    registry=REGISTRY,
).set_function(HEALTH.age)


def _version() -> str:
    try:
        return metadata.version("responder")
    except metadata.PackageNotFoundError:
        return "source"


BUILD.info({"version": _version(), "python": platform.python_version()})


# --- hooks: one call from the service per event ---


def seen(count: int) -> None:
    SEEN.inc(count)


def decided(record: NewMessage, arrived_at: float | None) -> None:
    """A message was decided and recorded; remember its arrival if an acknowledgment will go."""
    if record.decision == "refused":
        REFUSED.labels(record.reason or "unknown").inc()
        return
    ROUTED.labels(record.queue, "yes" if record.priority else "no").inc()
    if record.decision == "follow-up":
        FOLLOW_UPS.inc()
    elif record.decision == "capped":
        CAPS.labels(record.reason or "cap").inc()
    if record.ack_bytes is not None and arrived_at is not None:
        with _arrivals_lock:
            if len(_arrivals) >= MAX_TRACKED:
                _arrivals.pop(next(iter(_arrivals)))
            _arrivals[record.key] = arrived_at


def acknowledged(key: str) -> None:
    """SMTP accepted an acknowledgment (called from an SMTP worker thread)."""
    ACKS.inc()
    with _arrivals_lock:
        arrived_at = _arrivals.pop(key, None)
    if arrived_at is not None:
        LATENCY.observe(max(0.0, time.time() - arrived_at))


def smtp_failed(permanent: bool) -> None:
    SMTP_FAILURES.labels("permanent" if permanent else "transient").inc()


def quarantined() -> None:
    QUARANTINED.inc()


def filed(folders: list[str]) -> None:
    for folder in folders:
        FILED.labels(folder).inc()


def imap_connected() -> None:
    with HEALTH.lock:
        HEALTH.connected = True
        HEALTH.connections += 1
        HEALTH.last_check = time.time()
        if HEALTH.connections > 1:
            RECONNECTS.inc()
    HEALTH.changed.set()


def imap_closed() -> None:
    with HEALTH.lock:
        HEALTH.connected = False
    HEALTH.changed.set()


def checked(result: T) -> T:
    """A successful IMAP exchange on the INBOX session: it is alive and we are looking."""
    with HEALTH.lock:
        HEALTH.last_check = time.time()
    return result

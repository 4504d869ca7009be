"""Scenario 3: backlog drain, the service end to end vs. the raw IMAP ceiling, same messages.

The backlog is realistic (bench/mailgen.py: six languages, 2–200 KB, HTML, attachments, 10 %
bounces and auto-replies) and put into the INBOX over LMTP while the service is stopped. No
IDLE is involved: the service finds the backlog with its first UID SEARCH after connecting.
Before the service starts, one plain imapclient connection drains the same messages (FETCH +
batched MOVE, nothing else) — the raw ceiling — and every message is moved back to the INBOX.
"""

from __future__ import annotations

from typing import Any

from bench import profiling
from bench.drainrun import DrainResult, drain, mb
from bench.report import Section, Target, num
from bench.settings import Run


def scenario(run: Run) -> Section:
    count = run.sizes.backlog
    result = drain(run, count, "drain", ceiling=True)
    run.shared["drain"] = result
    return section(result)


def section(result: DrainResult) -> Section:
    d = result.data
    raw: dict[str, Any] = d["raw"]
    mix = d["mix"]
    e2e, ceiling = d["msgs_per_s"], raw["msgs_per_s"]
    share = e2e / ceiling if e2e and ceiling else None
    s = Section(
        key="drain",
        title=f"3. Backlog drain: {result.messages:,} realistic messages in the INBOX, service "
        "started",
        notes=[
            f"backlog: {mix['kinds']}, {mix['megabytes']} MB, {mix['size_kb_min']}-"
            f"{mix['size_kb_max']} KB (median {mix['size_kb_median']} KB), senders bench001-200; "
            f"injected over LMTP at {d['inject']['msgs_per_s']} msgs/s with the service stopped",
            "detection: none needed, the service's first UID SEARCH finds the backlog "
            "(no IDLE delay in these figures)",
            "clock: service process spawned -> ledger shows every message filed AND every "
            "acknowledgment accepted by SMTP (ack_state='sent'); start-up is included",
            "acknowledgments: accepted by Postfix as usual, then handed to its discard transport "
            "(not delivered into local Maildirs), so the figure is the responder's own throughput",
            "raw ceiling, same run, same messages (measured first, then all moved back to the "
            f"INBOX in {raw['moved_back_s']} s): one imapclient connection, UID SEARCH, FETCH "
            f"BODY.PEEK[] + one UID MOVE per {raw['batch']}, nothing else",
        ],
        columns=["", "messages", "seconds", "msgs/s", "note"],
    )
    s.rows = [
        [
            "service end to end",
            num(result.messages),
            num(d["seconds"], "s", 2),
            num(e2e),
            f"connected at {num(d['connected_s'], 's', 2)}, all filed at "
            f"{num(d['filed_s'], 's', 2)}, acks accepted at {num(d['acks_sent_s'], 's', 2)}",
        ],
        [
            "raw ceiling (1 connection)",
            num(raw["messages"]),
            num(raw["seconds"], "s", 2),
            num(ceiling),
            f"FETCH {raw['fetch_s']} s, MOVE {raw['move_s']} s, {raw['fetched_mb']} MB",
        ],
        ["service / ceiling", "", "", f"{100 * share:.1f} %" if share else "-", ""],
    ]
    led = d["ledger"]
    where = (
        f"{d['acks_discarded']} discarded by Postfix's discard transport (no local delivery)"
        if d["acks_discarded_by_postfix"]
        else f"{d['acks_delivered']} delivered to customers' Maildir/new (last at "
        f"{num(d.get('last_ack_delivered_s'), 's', 2)})"
    )
    s.notes.append(
        f"acknowledgments: {led['sent']} accepted by SMTP (ledger), {d['log_acks_sent']} logged "
        f"'acknowledgment sent to', {where}; expected "
        f"{d['expected_acks']}; failed {led['failed']}, quarantined {led['quarantined']}"
    )
    s.notes.append(
        "folders after the drain: "
        + ", ".join(f"{k} {v}" for k, v in sorted(d["folders"].items()) if v)
    )
    s.notes.append(
        f"CPU seconds during the drain (machine {d['machine_busy_pct']} % busy of 2 "
        "cores): " + ", ".join(f"{k} {v}" for k, v in list(d["cpu_by_process"].items())[:9])
    )
    s.notes.append(
        f"service peak RSS {mb(d['peak_rss_kib'])} MB (VmHWM); RSS as the drain "
        "went on: " + rss_progress(d["rss_timeline"], result.messages)
    )
    if "profile" in d:
        s.notes += profiling.lines(d["profile"])
    complete = d["inbox_before"] == result.messages and d["folders"].get("INBOX", 1) == 0
    s.targets = [
        Target("drain end to end", ">= 500 msgs/s", num(e2e, "msgs/s"), complete and e2e >= 500),
        Target(
            "drain vs raw ceiling (same run)",
            ">= 15 %",
            f"{100 * share:.1f} % of {num(ceiling, 'msgs/s')}" if share else "-",
            complete and share is not None and share >= 0.15,
        ),
    ]
    s.data = {"messages": result.messages, **d, "ratio_to_ceiling": round(share or 0, 4)}
    return s


def rss_progress(timeline: list[tuple[float, int, int]], count: int) -> str:
    """RSS when about 0, 25, 50, 75 and 100 % of the messages had been filed."""
    points: list[str] = []
    for share in (0.0, 0.25, 0.5, 0.75, 1.0):
        sample = next((t for t in timeline if t[1] >= share * count), None)
        point = f"{sample[1]:,} filed {mb(sample[2])} MB" if sample else ""
        if point and point not in points:
            points.append(point)
    return ", ".join(points) or "-"

"""One backlog drain: inject N mails with the service stopped, start it, time until all is done.

"Done" is read from the service's ledger (read-only, every 50 ms): every message filed (moved
out of the INBOX) and every acknowledgment accepted by Postfix (`ack_state = 'sent'`). The
clock starts just before the service process is spawned, so start-up (Python, template lint,
language models, IMAP login) is included; the log's "imap connected" line splits it off.
Acknowledgments delivered to the customers' Maildirs are counted too, as a cross-check.

Also here: the raw ceiling (one imapclient connection, FETCH + batched MOVE, nothing else),
run first on the pristine messages, which are then moved back to the INBOX for the service (the
other way round, the ceiling would have to move messages carrying the service's keywords);
peak RSS (VmHWM) and idle CPU, because scenarios 3 and 4 share these runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from imapclient import IMAPClient

from bench import mailgen, procstat
from bench.inject import inject
from bench.inotify import NewFiles
from bench.ledgerview import LedgerView, Progress
from bench.profiling import Profiler, summarize
from bench.service import ServiceError, ServiceProcess
from bench.settings import Run
from bench.stack import (
    SUPPORT,
    bench_users,
    discard_acknowledgments,
    discarded,
    folder_counts,
    fresh_stack,
    inbox_count,
    maildir_new,
    move_everything_to_inbox,
    seed_conversations,
)
from responder.devstack.mailstack import MailStack

SENDERS = 200
RAW_BATCH = 200  # the service's default service.batch_size, for a like-for-like ceiling
RAW_DEST = "Queues/general"


@dataclass
class DrainResult:
    messages: int
    data: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


def _done(p: Progress, count: int) -> tuple[bool, bool]:
    """(all filed, all acknowledgments accepted or refused for good)."""
    filed = p.filed + p.quarantined >= count
    acked = p.recorded + p.quarantined >= count and p.pending == 0
    return filed, acked


def _connected_after(service: ServiceProcess) -> float | None:
    """Seconds from spawn to the log's first "imap connected" line (ms resolution)."""
    for line in service.log_text().splitlines():
        if "imap connected" in line:
            try:
                stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            except ValueError:
                return None
            return round(stamp - service.spawned_wall, 3)
    return None


def _wait_done(
    service: ServiceProcess, ledger: LedgerView, count: int, timeline: list[tuple[float, int, int]]
) -> dict[str, float | None]:
    """Poll the ledger until done; every ~0.5 s append (seconds, filed, RSS KiB) to timeline."""
    marks: dict[str, float | None] = {"filed_s": None, "acks_sent_s": None}
    deadline = time.perf_counter() + max(180.0, count / 20)
    polls = 0
    while True:
        progress = ledger.progress()
        filed, acked = _done(progress, count)
        now = time.perf_counter() - service.spawned_at
        if polls % 10 == 0 and service.alive():
            timeline.append((round(now, 2), progress.filed, service.status_kib("VmRSS")))
        polls += 1
        if filed and marks["filed_s"] is None:
            marks["filed_s"] = round(now, 3)
        if acked and marks["acks_sent_s"] is None:
            marks["acks_sent_s"] = round(now, 3)
        if filed and acked:
            return marks
        service.check_alive()
        if time.perf_counter() > deadline:
            raise ServiceError(
                f"drain of {count} not done after {max(180.0, count / 20):.0f} s: "
                f"{ledger.progress()}\n{service.log_tail()}"
            )
        time.sleep(0.05)


def raw_ceiling(stack: MailStack) -> dict[str, Any]:
    """One imapclient connection: SEARCH, then per batch FETCH BODY.PEEK[] + one UID MOVE."""
    started = time.perf_counter()
    client = IMAPClient(stack.host, port=stack.imap_port, ssl=False, timeout=60)
    client.login(SUPPORT, stack.password)
    client.select_folder("INBOX")
    uids = client.search("ALL")
    if not client.folder_exists(RAW_DEST):
        client.create_folder(RAW_DEST)
    fetch_s = move_s = 0.0
    nbytes = 0
    for start in range(0, len(uids), RAW_BATCH):
        chunk = uids[start : start + RAW_BATCH]
        t = time.perf_counter()
        data = client.fetch(chunk, ["BODY.PEEK[]"])
        fetch_s += time.perf_counter() - t
        nbytes += sum(len(item[b"BODY[]"]) for item in data.values())
        t = time.perf_counter()
        client.move(chunk, RAW_DEST)
        move_s += time.perf_counter() - t
    seconds = time.perf_counter() - started
    client.logout()
    return {
        "messages": len(uids),
        "seconds": round(seconds, 3),
        "msgs_per_s": round(len(uids) / seconds, 1) if seconds else None,
        "fetch_s": round(fetch_s, 3),
        "move_s": round(move_s, 3),
        "fetched_mb": round(nbytes / 1e6, 1),
        "batch": RAW_BATCH,
    }


def _mail_mix(mails: list[mailgen.Mail]) -> dict[str, Any]:
    sizes = sorted(len(m.raw) for m in mails)
    kinds: dict[str, int] = {}
    for m in mails:
        kinds[m.kind] = kinds.get(m.kind, 0) + 1
    return {
        "kinds": kinds,
        "size_kb_min": round(sizes[0] / 1024, 1),
        "size_kb_median": round(sizes[len(sizes) // 2] / 1024, 1),
        "size_kb_max": round(sizes[-1] / 1024, 1),
        "megabytes": round(sum(sizes) / 1e6, 1),
    }


def _baseline_rss(run: Run, stack: MailStack, name: str) -> dict[str, Any]:
    """The service on an empty INBOX: start-up time and RSS before any mail."""
    service = ServiceProcess(stack, run.workdir / f"{name}-baseline")
    service.start()
    try:
        ready = service.wait_ready()
        time.sleep(0.5)
        return {
            "ready_s": round(ready, 2),
            "rss_kib": service.status_kib("VmRSS"),
            "hwm_kib": service.status_kib("VmHWM"),
        }
    finally:
        service.stop()


def drain(
    run: Run,
    count: int,
    name: str,
    *,
    idle_seconds: float = 0.0,
    ceiling: bool = False,
    baseline: bool = False,
    discard: bool = True,
    history: int = 0,
    settings: dict[str, str] | None = None,
) -> DrainResult:
    """`discard`: acknowledgments end in Postfix's discard transport (accepted by SMTP, not
    delivered); `history`: past conversations' keywords in the mailbox first; `settings`:
    RESPONDER_* for the service."""
    result = DrainResult(count)
    d = result.data
    d["acks_discarded_by_postfix"] = discard
    d["settings"] = settings or {}
    with fresh_stack(run.workdir, name, bench_users(SENDERS)) as stack:
        if discard:
            discard_acknowledgments(stack)
        if history:
            run.say(f"{name}: seeding {history:,} past conversations' keywords")
            d["history"] = seed_conversations(stack, history)
        if baseline:
            d["baseline"] = _baseline_rss(run, stack, name)
        t = time.perf_counter()
        mails = mailgen.backlog(count, bench_users(SENDERS), seed=run.seed + count)
        d["generate_s"] = round(time.perf_counter() - t, 1)
        d["mix"] = _mail_mix(mails)
        run.say(f"{name}: injecting {count} messages ({d['mix']['megabytes']} MB) over LMTP")
        injected = inject(stack, mails)
        d["inject"] = {
            "seconds": injected.seconds,
            "msgs_per_s": round(injected.per_second, 1),
            "connections": injected.connections,
        }
        sync_inbox(stack)
        d["inbox_before"] = inbox_count(stack)
        d["expected_acks"] = sum(1 for m in mails if m.kind == "customer")
        del mails
        if ceiling:
            run.say(f"{name}: raw ceiling on the {count} messages, then moved back")
            d["raw"] = raw_ceiling(stack)
            d["raw"]["moved_back_s"] = round(move_everything_to_inbox(stack), 2)
        _run_service(run, stack, name, count, idle_seconds, d, settings or {})
    return result


def sync_inbox(stack: MailStack) -> None:
    """One read-write SELECT, so Dovecot moves the new delivery from Maildir/new to cur/ now,
    not inside whichever drain comes first (keeps the raw ceiling and the service comparable)."""
    with stack.imap(SUPPORT) as client:
        client.select_folder("INBOX")
        client.unselect_folder()


def _run_service(
    run: Run,
    stack: MailStack,
    name: str,
    count: int,
    idle_seconds: float,
    d: dict[str, Any],
    settings: dict[str, str],
) -> None:
    customers = {u: maildir_new(stack, u) for u in bench_users(SENDERS)}
    service = ServiceProcess(stack, run.workdir / f"{name}-service")
    service.env |= settings
    ledger = LedgerView(service.ledger_path)
    profiler: Profiler | None = None
    with NewFiles(customers) as acks:
        cpu_before, busy_before = procstat.snapshot(), procstat.machine_busy()
        run.say(f"{name}: service started on {count} messages")
        service.start()
        try:
            if run.profile:
                profiler = Profiler(service.pid, run.out_dir / f"profile-{name}.txt")
            timeline: list[tuple[float, int, int]] = []
            marks = _wait_done(service, ledger, count, timeline)
            timeline.append((marks["filed_s"] or 0.0, count, service.status_kib("VmRSS")))
            d["rss_timeline"] = timeline
            elapsed = time.perf_counter() - service.spawned_at
            cpu_after, busy_after = procstat.snapshot(), procstat.machine_busy()
            if profiler:
                profiler.stop()
                d["profile"] = summarize(profiler.output)
            progress = ledger.progress()
            d.update(
                seconds=round(elapsed, 3),
                **marks,
                msgs_per_s=round(count / elapsed, 1),
                connected_s=_connected_after(service),
                ready_s=round(service.ready_at - service.spawned_at, 3)
                if service.ready_at
                else None,
                ledger=progress.__dict__,
                peak_rss_kib=service.status_kib("VmHWM"),
                rss_kib=service.status_kib("VmRSS"),
                service_cpu_s=round(service.cpu_seconds(), 2),
                cpu_by_process=procstat.cpu_by_group(cpu_before, cpu_after, service.pid, stack),
                machine_busy_pct=round(
                    100
                    * (busy_after[0] - busy_before[0])
                    / max(1e-9, busy_after[1] - busy_before[1]),
                    1,
                ),
            )
            arrived = (
                [] if d["acks_discarded_by_postfix"] else acks.wait_for(None, progress.sent, 60)
            )
            d["acks_delivered"] = len(arrived)
            d["acks_discarded"] = _wait_discarded(stack, progress.sent)
            if arrived:
                d["last_ack_delivered_s"] = round(
                    max(a.at for a in arrived) - service.spawned_at, 3
                )
            d["log_acks_sent"] = service.log_count("acknowledgment sent to")
            if idle_seconds:
                d["idle"] = _idle_cpu(service, idle_seconds)
            d["folders"] = folder_counts(stack)
        finally:
            if profiler:
                profiler.stop()
            ledger.close()
            service.stop()


def _wait_discarded(stack: MailStack, expected: int, timeout: float = 30.0) -> int:
    """Acknowledgments Postfix discarded (its queue may still hold the last ones)."""
    deadline = time.perf_counter() + timeout
    while (seen := discarded(stack)) < expected and time.perf_counter() < deadline:
        time.sleep(0.2)
    return seen


def _idle_cpu(service: ServiceProcess, seconds: float) -> dict[str, Any]:
    """CPU the service burns while idling in IDLE (after a short settle)."""
    time.sleep(3.0)
    before, t0 = service.cpu_seconds(), time.perf_counter()
    ns_before, wakeups_before = service.cpu_ns_and_wakeups()
    time.sleep(seconds)
    used, wall = service.cpu_seconds() - before, time.perf_counter() - t0
    ns_after, wakeups_after = service.cpu_ns_and_wakeups()
    return {
        "seconds": round(wall, 1),
        "cpu_s": round(used, 3),
        "pct_of_one_core": round(100 * used / wall, 3),
        "schedstat_cpu_ms": round((ns_after - ns_before) / 1e6, 2),
        "schedstat_pct_of_one_core": round(100 * (ns_after - ns_before) / 1e9 / wall, 4),
        "wakeups_per_s": round((wakeups_after - wakeups_before) / wall, 1),
        "peak_rss_kib_after": service.status_kib("VmHWM"),
    }


def mb(kib: int | None) -> float | None:
    """KiB (as /proc reports) to MB (10^6 bytes), the unit of the issue's memory target."""
    return None if kib is None else round(kib * 1024 / 1e6, 1)

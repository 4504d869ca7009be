"""Scenario 2: a burst — M mails from S senders submitted back to back — responder vs. vacation.

Clock: starts before the first mail's SMTP submission (all mails go over one SMTP connection,
as fast as Postfix takes them); stops when the last acknowledgment file appears in its
customer's Maildir/new (inotify). Rate = acknowledgments / that time. Per-mail latency pairs
each acknowledgment with its mail by In-Reply-To.

Responder: `responder run`, idle in IMAP IDLE when the burst starts, so the first batch waits
for Dovecot's 500 ms IDLE push; later mails are found by the service's own SEARCH after each
batch (or by the next IDLE push). Vacation: Sieve `:seconds 0` answers inside each LMTP
delivery (no IDLE). Fresh stack for each; same mails. A burst lasts a few seconds on a shared
two-core machine, so the pair is run `burst_repeats` times, alternating, and medians compared.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from bench import mailgen
from bench.inotify import NewFiles
from bench.ledgerview import LedgerView
from bench.mailgen import Mail
from bench.observe import in_reply_to, warm_up
from bench.report import Section, Target, ms, num
from bench.service import ServiceProcess
from bench.settings import Run
from bench.stack import (
    SUPPORT,
    VACATION_SECONDS_0,
    bench_users,
    fresh_stack,
    inbox_count,
    maildir_new,
    smtp,
)
from bench.stats import ratio, summarize_ms
from responder.devstack.mailstack import MailStack

WARMUP_SENDERS = ["customer4@example.test", "customer5@example.test", "customer6@example.test"]
STALL = 10.0  # seconds without a new acknowledgment: the rest is not coming


@dataclass
class Burst:
    mails: int
    senders: int
    acks: int
    unmatched: int
    submit_s: float
    last_ack_s: float
    acks_per_s: float | None
    latency: dict[str, float | int | None]
    filed: int | None = None
    left_in_inbox: int | None = None


def _burst(stack: MailStack, mails: Sequence[Mail], timeout: float) -> Burst:
    senders = sorted({m.envelope_from for m in mails})
    sent_at: dict[str, float] = {}
    with NewFiles({s: maildir_new(stack, s) for s in senders}) as watch:
        first = time.perf_counter()
        with smtp(stack) as session:
            for mail in mails:
                sent_at[mail.message_id] = time.perf_counter()
                session.sendmail(mail.envelope_from, [SUPPORT], mail.raw)
        submitted = time.perf_counter()
        arrivals = watch.wait_for(None, len(mails), timeout, stall=STALL)
        latencies = []
        unmatched = 0
        for arrival in arrivals:
            started = sent_at.get(in_reply_to(watch.path(arrival)))
            if started is None:
                unmatched += 1
            else:
                latencies.append((arrival.at - started) * 1000)
    wall = max((a.at for a in arrivals), default=submitted) - first
    return Burst(
        mails=len(mails),
        senders=len(senders),
        acks=len(arrivals),
        unmatched=unmatched,
        submit_s=round(submitted - first, 3),
        last_ack_s=round(wall, 3),
        acks_per_s=round(len(arrivals) / wall, 1) if wall > 0 else None,
        latency=summarize_ms(latencies),
    )


def _responder(run: Run, mails: Sequence[Mail], warmups: Sequence[Mail], name: str) -> Burst:
    users = sorted({m.envelope_from for m in mails}) + WARMUP_SENDERS
    with fresh_stack(run.workdir, name, users) as stack:
        service = ServiceProcess(stack, run.workdir / f"{name}-service")
        service.start()
        try:
            service.wait_ready()
            warm_up(stack, warmups)
            time.sleep(1.0)  # let the service file the warm-up mails and go back to IDLE
            run.say(f"burst: responder, {len(mails)} mails")
            figures = _burst(stack, mails, timeout=60 + 0.2 * len(mails))
            ledger = LedgerView(service.ledger_path)
            deadline = time.perf_counter() + STALL
            while ledger.progress().filed < len(mails) + len(warmups):
                if time.perf_counter() > deadline:
                    break
                time.sleep(0.05)
            figures.filed = ledger.progress().filed - len(warmups)
            figures.left_in_inbox = inbox_count(stack)
            ledger.close()
        finally:
            service.stop()
    return figures


def _vacation(run: Run, mails: Sequence[Mail], warmups: Sequence[Mail], name: str) -> Burst:
    users = sorted({m.envelope_from for m in mails}) + WARMUP_SENDERS
    with fresh_stack(run.workdir, name, users) as stack:
        stack.set_sieve(SUPPORT, VACATION_SECONDS_0)
        try:
            warm_up(stack, warmups)
            run.say(f"burst: Sieve vacation, {len(mails)} mails")
            return _burst(stack, mails, timeout=60 + 0.2 * len(mails))
        finally:
            stack.set_sieve(SUPPORT, None)


def _median_rate(runs: Sequence[Burst]) -> float | None:
    rates = [r.acks_per_s for r in runs if r.acks_per_s is not None]
    return round(statistics.median(rates), 1) if rates else None


def scenario(run: Run) -> Section:
    count, senders = run.sizes.burst_mails, run.sizes.burst_senders
    mails = mailgen.conversation_starters(
        bench_users(senders), seed=run.seed + 10, per_sender=count // senders
    )
    warmups = mailgen.conversation_starters(WARMUP_SENDERS, seed=run.seed + 11)
    responder: list[Burst] = []
    vacation: list[Burst] = []
    for repeat in range(run.sizes.burst_repeats):
        responder.append(_responder(run, mails, warmups, f"burst-responder-{repeat}"))
        vacation.append(_vacation(run, mails, warmups, f"burst-vacation-{repeat}"))
    section = Section(
        key="burst",
        title=f"2. Burst: {len(mails)} mails from {senders} senders, back to back on one SMTP "
        f"connection ({len(responder)} alternating run(s) each)",
        notes=[
            "clock: first SMTP submission -> last acknowledgment file in a customer's "
            "Maildir/new (inotify); rate = acknowledgments / that time",
            "responder: idle in IMAP IDLE when the burst starts -> INCLUDES at least one 500 ms "
            "IDLE notification delay; later mails found by its SEARCH after each batch",
            "Sieve vacation :seconds 0 answers during LMTP delivery (no IDLE); per-mail latency "
            "pairs each acknowledgment with its mail by In-Reply-To",
        ],
        columns=["", "acks", "submit", "last ack", "acks/s", "p50", "p95", "max"],
    )
    for label, runs in (("responder (IDLE)", responder), ("Sieve vacation :seconds 0", vacation)):
        for number, b in enumerate(runs, 1):
            section.rows.append(
                [
                    f"{label} #{number}",
                    f"{b.acks}/{b.mails}",
                    num(b.submit_s, "s", 2),
                    num(b.last_ack_s, "s", 2),
                    num(b.acks_per_s),
                    ms(b.latency["p50_ms"]),
                    ms(b.latency["p95_ms"]),
                    ms(b.latency["max_ms"]),
                ]
            )
    r_rate, v_rate = _median_rate(responder), _median_rate(vacation)
    section.rows.append(["median rate: responder", "", "", "", num(r_rate), "", "", ""])
    section.rows.append(["median rate: Sieve vacation", "", "", "", num(v_rate), "", "", ""])
    section.rows.append(
        ["ratio responder/vacation", "", "", "", _x(ratio(r_rate, v_rate)), "", "", ""]
    )
    complete = all(b.acks == b.mails for b in responder)
    missing = sum(b.mails - b.acks for b in responder)
    stuck = sum(b.left_in_inbox or 0 for b in responder)
    if not complete:
        section.notes.append(
            f"WARNING: {missing} acknowledgment(s) never came in {len(responder)} responder "
            f"run(s) (given up after {STALL:g} s without progress); {stuck} mail(s) were still "
            "in the INBOX: the service sat in IDLE with unprocessed mail"
        )
    section.targets = [
        Target(
            "burst ack rate >= Sieve vacation's (same run, medians)",
            f">= {num(v_rate, 'acks/s')}",
            f"{num(r_rate, 'acks/s')}" + ("" if complete else f" ({missing} acks missing)"),
            complete and r_rate is not None and v_rate is not None and r_rate >= v_rate,
        )
    ]
    section.data = {
        "responder": [asdict(b) for b in responder],
        "vacation": [asdict(b) for b in vacation],
        "median_rate_responder": r_rate,
        "median_rate_vacation": v_rate,
        "ratio_rate": ratio(r_rate, v_rate),
    }
    return section


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"

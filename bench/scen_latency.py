"""Scenario 1: time to acknowledgment, one mail at a time, responder vs. Sieve vacation.

Clock: starts just before the customer opens its SMTP connection to Postfix; stops when the
acknowledgment's file appears in the customer's Maildir/new (inotify): delivered, as the
customer's mail client would see it. N distinct senders each send one short mail (~1 KB, the
six languages and five queues in turn); the next mail is sent only after the previous one is
answered and filed, so each mail meets an idle service.

Responder: `responder run` (IMAP IDLE), so every figure includes Dovecot 2.3's 500 ms IDLE
notification delay; a second IDLE client splits each latency into delivery, Dovecot's push and
the service's own work. Vacation: Pigeonhole `vacation :seconds 0` answers inside the LMTP
delivery, with no IDLE involved; responder stopped, fresh stack.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench import mailgen
from bench.inotify import NewFiles
from bench.ledgerview import LedgerView
from bench.mailgen import Mail
from bench.observe import IdleObserver, in_reply_to, warm_up
from bench.profiling import Profiler
from bench.report import Section, Target, ms
from bench.service import ServiceProcess
from bench.settings import Run
from bench.stack import SUPPORT, VACATION_SECONDS_0, bench_users, fresh_stack, maildir_new, smtp
from bench.stats import ratio, summarize_ms
from responder.devstack.mailstack import MailStack

WARMUP_SENDERS = ["customer1@example.test", "customer2@example.test", "customer3@example.test"]
ACK_TIMEOUT = 15.0  # seconds; a missing acknowledgment is a failure, not a latency
GAP = 0.1  # seconds between "answered and filed" and the next mail


@dataclass
class Sample:
    sender: str
    sent: float  # perf_counter() before connecting
    submitted: float  # SMTP transaction done (Postfix has queued it)
    acked: float | None  # the acknowledgment appeared in the customer's Maildir/new
    delivered: float | None = None  # the mail appeared in support@'s Maildir/new
    notified: float | None = None  # the IDLE observer got `* n EXISTS`
    matched: bool = False  # the acknowledgment's In-Reply-To names this mail

    def span(self, end: float | None, start: float | None = None) -> float | None:
        begin = self.sent if start is None else start
        return None if end is None or begin is None else (end - begin) * 1000


def one_at_a_time(
    stack: MailStack,
    mails: Sequence[Mail],
    after_each: Callable[[int], None],
    support_watch: NewFiles,
    observer: IdleObserver | None,
) -> list[Sample]:
    senders = [m.envelope_from for m in mails]
    samples = []
    with NewFiles({s: maildir_new(stack, s) for s in senders}) as watch:
        for index, mail in enumerate(mails):
            base = watch.count(mail.envelope_from)
            delivered_base = support_watch.count()
            if observer is not None:
                observer.rearm()
            sent = time.perf_counter()
            with smtp(stack) as session:
                session.sendmail(mail.envelope_from, [SUPPORT], mail.raw)
            submitted = time.perf_counter()
            arrivals = watch.wait_for(mail.envelope_from, base + 1, ACK_TIMEOUT)
            sample = Sample(mail.envelope_from, sent, submitted, None)
            if len(arrivals) > base:
                sample.acked = arrivals[base].at
                sample.matched = in_reply_to(watch.path(arrivals[base])) == mail.message_id
            into_support = support_watch.wait_for(None, delivered_base + 1, 1.0)
            if len(into_support) > delivered_base:
                sample.delivered = into_support[delivered_base].at
            if observer is not None:
                sample.notified = observer.first_after(sent)
            samples.append(sample)
            after_each(index)
    return samples


def _figures(samples: Sequence[Sample]) -> dict[str, object]:
    answered = [s for s in samples if s.acked is not None]
    out: dict[str, object] = {
        "sent": len(samples),
        "answered": len(answered),
        "unmatched": sum(1 for s in answered if not s.matched),
        "latency": summarize_ms([s.span(s.acked) or 0.0 for s in answered]),
        "smtp_submit": summarize_ms([s.span(s.submitted) or 0.0 for s in samples]),
        "delivered_to_support": summarize_ms(
            [v for s in samples if (v := s.span(s.delivered)) is not None]
        ),
    }
    notified = [s for s in answered if s.notified is not None and s.delivered is not None]
    if notified:
        out["idle_push_after_delivery"] = summarize_ms(
            [s.span(s.notified, s.delivered) or 0.0 for s in notified]
        )
        out["ack_after_idle_push"] = summarize_ms(
            [s.span(s.acked, s.notified) or 0.0 for s in notified]
        )
    return out


def _responder(run: Run, mails: Sequence[Mail], warmups: Sequence[Mail]) -> dict[str, object]:
    users = [m.envelope_from for m in mails] + WARMUP_SENDERS
    with fresh_stack(run.workdir, "latency-responder", users) as stack:
        service = ServiceProcess(stack, run.workdir / "latency-service")
        service.start()
        startup = service.wait_ready()
        warm = warm_up(stack, warmups)
        ledger = LedgerView(service.ledger_path)
        observer = IdleObserver(stack)
        profiler = (
            Profiler(service.pid, run.out_dir / "profile-latency.txt") if run.profile else None
        )

        def settle(index: int) -> None:
            deadline = time.perf_counter() + 10
            while ledger.progress().filed < len(warmups) + index + 1:
                if time.perf_counter() > deadline:
                    break
                time.sleep(0.005)
            time.sleep(GAP)

        try:
            with NewFiles({"support": maildir_new(stack, SUPPORT)}) as support_watch:
                run.say(f"latency: responder, {len(mails)} mails one at a time")
                samples = one_at_a_time(stack, mails, settle, support_watch, observer)
        finally:
            if profiler:
                profiler.stop()
            observer.close()
            ledger.close()
            service.stop()
    return {"startup_to_ready_s": round(startup, 2), "warmup_answered": warm, **_figures(samples)}


def _vacation(run: Run, mails: Sequence[Mail], warmups: Sequence[Mail]) -> dict[str, object]:
    users = [m.envelope_from for m in mails] + WARMUP_SENDERS
    with fresh_stack(run.workdir, "latency-vacation", users) as stack:
        stack.set_sieve(SUPPORT, VACATION_SECONDS_0)
        try:
            warm = warm_up(stack, warmups)
            with NewFiles({"support": maildir_new(stack, SUPPORT)}) as support_watch:
                run.say(f"latency: Sieve vacation, {len(mails)} mails one at a time")
                samples = one_at_a_time(
                    stack, mails, lambda _i: time.sleep(GAP), support_watch, None
                )
        finally:
            stack.set_sieve(SUPPORT, None)
    return {"warmup_answered": warm, **_figures(samples)}


def scenario(run: Run) -> Section:
    n = run.sizes.seq_senders
    mails = mailgen.conversation_starters(bench_users(n), seed=run.seed)
    warmups = mailgen.conversation_starters(WARMUP_SENDERS, seed=run.seed + 1)
    responder = _responder(run, mails, warmups)
    vacation = _vacation(run, mails, warmups)
    r_lat, v_lat = responder["latency"], vacation["latency"]
    assert isinstance(r_lat, dict) and isinstance(v_lat, dict)
    section = Section(
        key="time_to_ack",
        title=f"1. Time to acknowledgment, one mail at a time (N={n} distinct senders)",
        notes=[
            "clock: start of the customer's SMTP submission -> acknowledgment file in the "
            "customer's Maildir/new (inotify, not IMAP)",
            "responder: new mail detected by IMAP IDLE -> INCLUDES Dovecot 2.3's 500 ms IDLE "
            "notification delay; Sieve vacation runs at LMTP delivery (no IDLE, no delay)",
            f"{len(warmups)} unmeasured warm-up mails first; next mail only after the previous "
            f"one is answered (and, responder, filed) + {GAP * 1000:.0f} ms",
        ],
        columns=["", "p50", "p95", "p99", "max", "answered"],
    )
    for label, figures in (
        ("responder (IDLE)", responder),
        ("Sieve vacation :seconds 0", vacation),
    ):
        lat = figures["latency"]
        assert isinstance(lat, dict)
        section.rows.append(
            [
                label,
                ms(lat["p50_ms"]),
                ms(lat["p95_ms"]),
                ms(lat["p99_ms"]),
                ms(lat["max_ms"]),
                f"{figures['answered']}/{figures['sent']}",
            ]
        )
    section.rows.append(
        [
            "ratio responder/vacation",
            _x(ratio(r_lat["p50_ms"], v_lat["p50_ms"])),
            _x(ratio(r_lat["p95_ms"], v_lat["p95_ms"])),
            _x(ratio(r_lat["p99_ms"], v_lat["p99_ms"])),
            _x(ratio(r_lat["max_ms"], v_lat["max_ms"])),
            "",
        ]
    )
    for label, key in (
        ("  responder: SMTP submission", "smtp_submit"),
        ("  responder: mail in support@ Maildir", "delivered_to_support"),
        ("  responder: Dovecot IDLE push after delivery", "idle_push_after_delivery"),
        ("  responder: ack delivered after IDLE push", "ack_after_idle_push"),
    ):
        part = responder.get(key)
        if isinstance(part, dict):
            section.rows.append(
                [
                    label,
                    ms(part["p50_ms"]),
                    ms(part["p95_ms"]),
                    ms(part["p99_ms"]),
                    ms(part["max_ms"]),
                    "",
                ]
            )
    unmatched = int(str(responder["unmatched"])) + int(str(vacation["unmatched"]))
    if unmatched:
        section.notes.append(f"WARNING: {unmatched} acknowledgment(s) did not answer the mail sent")
    missing = int(str(responder["sent"])) - int(str(responder["answered"]))
    unanswered = f" ({missing} never answered)" if missing else ""
    section.targets = [
        Target(
            "time-to-ack p50 (IDLE)",
            "<= 650 ms",
            ms(r_lat["p50_ms"]) + unanswered,
            not missing and r_lat["p50_ms"] is not None and r_lat["p50_ms"] <= 650,
        ),
        Target(
            "time-to-ack p99 (IDLE)",
            "<= 1200 ms",
            ms(r_lat["p99_ms"]) + unanswered,
            not missing and r_lat["p99_ms"] is not None and r_lat["p99_ms"] <= 1200,
        ),
    ]
    section.data = {
        "responder": responder,
        "vacation": vacation,
        "ratio_p50": ratio(r_lat["p50_ms"], v_lat["p50_ms"]),
        "ratio_p99": ratio(r_lat["p99_ms"], v_lat["p99_ms"]),
    }
    return section


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x"

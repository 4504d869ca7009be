"""`responder report --html FILE`: one self-contained page for people who would rather look.

Promises kept / updated / broken per queue and per week, how long customers waited for the
first human answer, and acknowledgments per day. No scripts, fonts, images or links to fetch:
the page opens from a mail attachment or an air-gapped laptop exactly as it was written.
Every number sits in an element with a `data-*` name so a test (and a script) can read it.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from responder.config import Config
from responder.errors import ResponderError
from responder.service.promises import Promise, PromiseBook

STATES = ("kept", "updated", "broken", "answered-unverified", "open")
BUCKETS = (  # time to the first human answer, wall clock
    ("under 1 h", 3600),
    ("1–4 h", 4 * 3600),
    ("4–8 h", 8 * 3600),
    ("8–24 h", 24 * 3600),
    ("1–3 days", 3 * 86400),
    ("over 3 days", float("inf")),
)
STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#1d2430;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{padding:.3rem .7rem;text-align:right;
border-bottom:1px solid #dde}th:first-child,td:first-child{text-align:left}
.bar{display:inline-block;height:.9rem;background:#4a78c2;vertical-align:middle}
.kept{color:#1d7a35}.broken{color:#b3261e}.updated{color:#8a5a00}.muted{color:#667}
"""


@dataclass
class Stats:
    by_queue: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_week: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    waits: Counter[str] = field(default_factory=Counter)
    acks_per_day: dict[str, int] = field(default_factory=dict)
    total: Counter[str] = field(default_factory=Counter)


def collect(book: PromiseBook) -> Stats:
    stats = Stats()
    promises = book.all()
    for p in promises:
        week = datetime.fromtimestamp(p.made_at, UTC).strftime("%G-W%V")
        stats.by_queue[p.queue][p.state] += 1
        stats.by_week[week][p.state] += 1
        stats.total[p.state] += 1
    for wait in first_answer_waits(promises):
        label = next(name for name, limit in BUCKETS if wait < limit)
        stats.waits[label] += 1
    rows = book.db.execute(
        "SELECT date(acked_at, 'unixepoch'), COUNT(*) FROM messages"
        " WHERE ack_state = 'sent' AND acked_at IS NOT NULL GROUP BY 1 ORDER BY 1"
    ).fetchall()
    stats.acks_per_day = {str(day): int(count) for day, count in rows}
    return stats


def first_answer_waits(promises: list[Promise]) -> list[float]:
    """Per conversation: first answer seen minus the first promise made (updates included)."""
    made: dict[str, float] = {}
    answered: dict[str, float] = {}
    for p in promises:
        made[p.conversation] = min(made.get(p.conversation, p.made_at), p.made_at)
        if p.answered_at is not None and p.state in ("kept", "answered-unverified"):
            answered[p.conversation] = min(
                answered.get(p.conversation, p.answered_at), p.answered_at
            )
    return [answered[c] - made[c] for c in answered]


def _table(title: str, rows: dict[str, Counter[str]], key: str) -> str:
    head = "".join(f"<th>{html.escape(s)}</th>" for s in STATES)
    body = []
    for name in sorted(rows):
        cells = "".join(
            f'<td class="{s}" data-{key}="{html.escape(name)}" data-state="{s}">{rows[name][s]}</td>'
            for s in STATES
        )
        body.append(f"<tr><td>{html.escape(name)}</td>{cells}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(STATES) + 1}" class="muted">none yet</td></tr>')
    return f"<h2>{title}</h2><table><tr><th></th>{head}</tr>{''.join(body)}</table>"


def _bars(title: str, counts: list[tuple[str, int]], name: str) -> str:
    peak = max((n for _, n in counts), default=0) or 1
    rows = "".join(
        f'<tr><td>{html.escape(label)}</td><td data-{name}="{html.escape(label)}">{n}</td>'
        f'<td><span class="bar" style="width:{round(240 * n / peak)}px"></span></td></tr>'
        for label, n in counts
    )
    return f"<h2>{title}</h2><table>{rows or '<tr><td class=muted>none yet</td></tr>'}</table>"


def render(stats: Stats, organization: str, now: datetime) -> str:
    total = stats.total
    settled = total["kept"] + total["updated"] + total["broken"]
    kept_share = f"{100 * total['kept'] / settled:.0f} %" if settled else "–"
    summary = (
        f'<p>Promises kept: <strong data-total="kept">{total["kept"]}</strong>, updated before '
        f'the deadline: <strong data-total="updated">{total["updated"]}</strong>, broken: '
        f'<strong data-total="broken">{total["broken"]}</strong> '
        f'(<span data-total="kept-share">{kept_share}</span> kept of those settled); '
        f'still open: <strong data-total="open">{total["open"]}</strong>, answered but '
        f'unverified: <strong data-total="answered-unverified">{total["answered-unverified"]}'
        "</strong>.</p>"
    )
    waits = [(label, stats.waits[label]) for label, _ in BUCKETS]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Promises — {html.escape(organization)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Promises — {html.escape(organization)}</h1>",
        f'<p class="muted">Written {now:%Y-%m-%d %H:%M} UTC from the responder ledger.</p>',
        summary,
        _table("Per queue", stats.by_queue, "queue"),
        _table("Per week (when the promise was made)", stats.by_week, "week"),
        _bars("Time to the first human answer", waits, "wait"),
        _bars("Acknowledgments per day (UTC)", list(stats.acks_per_day.items()), "day"),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def write_report(config: Config, target: Path, now: datetime | None = None) -> int:
    from responder.commands.promises import open_book

    stats = collect(open_book(config))
    page = render(stats, config.mailbox.organization, now or datetime.now(UTC))
    try:
        target.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise ResponderError(f"cannot write {target}: {exc.strerror}") from None
    print(f"wrote {target}")
    return 0

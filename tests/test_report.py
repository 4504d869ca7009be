"""`responder promises` and `responder report --html`, the page checked in a real headless browser."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import require

from responder import cli
from responder.service.ledger import Ledger, NewMessage
from responder.service.promises import NewPromise, PromiseBook

HOUR = 3600.0
MONDAY = datetime(2026, 3, 23, 9, 0, tzinfo=UTC).timestamp()  # ISO week 2026-W13
NEXT_MONDAY = MONDAY + 7 * 24 * HOUR  # 2026-W14


def promise(book: PromiseBook, n: int, queue: str, made: float, due: float) -> int:
    added = book.add(
        NewPromise(
            message_key=f"<m{n}@example.com>",
            message_id=f"m{n}@example.com",
            conversation=f"REF{n:05d}",
            queue=queue,
            priority=False,
            language="en",
            customer=f"c{n}@example.com",
            customer_name="",
            subject=f"Question {n}",
            calendar="always",
            window=4 * HOUR,
            made_at=made,
            due_at=due,
            text="...",
            sent_message_id=f"<ack{n}@example.test>",
            warn_due=made + 3 * HOUR,
            notify_due=made + 3.6 * HOUR,
            update_due=made + 3.8 * HOUR,
        )
    )
    assert added is not None
    return added


def acknowledged(ledger: Ledger, n: int, when: float) -> None:
    ledger.record(
        NewMessage(
            key=f"<m{n}@example.com>",
            uidvalidity=1,
            uid=n,
            decision="reply",
            reason=None,
            queue="billing",
            priority=False,
            language="en",
            reference=f"REF{n:05d}",
            conversation=f"REF{n:05d}",
            sender=f"c{n}@example.com",
            subject_norm="q",
            folder="Queues/billing",
            ack_message_id=f"<ack{n}@example.test>",
            ack_to=f"c{n}@example.com",
            ack_bytes=b"x",
        ),
        when,
    )
    ledger.db.execute(
        "UPDATE messages SET ack_state = 'sent', acked_at = ? WHERE key = ?",
        (when, f"<m{n}@example.com>"),
    )


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ledger with known outcomes: billing 2 kept, 1 broken; orders 1 updated (+ its
    replacement kept), 1 answered-unverified; 2 open ones due soon and later."""
    state = tmp_path / "state"
    ledger = Ledger.in_state_dir(state)
    book = PromiseBook(ledger.db)
    now = time.time()
    kept1 = promise(book, 1, "billing", MONDAY, MONDAY + 4 * HOUR)
    kept2 = promise(book, 2, "billing", MONDAY + HOUR, MONDAY + 5 * HOUR)
    broken = promise(book, 3, "billing", NEXT_MONDAY, NEXT_MONDAY + 4 * HOUR)
    updated = promise(book, 4, "orders", NEXT_MONDAY, NEXT_MONDAY + 4 * HOUR)
    unverified = promise(book, 5, "orders", NEXT_MONDAY + HOUR, NEXT_MONDAY + 5 * HOUR)
    book.settle(kept1, "kept", "reply in Sent", MONDAY + 0.5 * HOUR)  # 30 min
    book.settle(kept2, "kept", "reply in Sent", MONDAY + 3 * HOUR)  # 2 h
    book.set_state(broken, "broken", ("open",))
    book.set_state(updated, "updated", ("open",))
    replacement = book.add(
        NewPromise(
            message_key="<m4@example.com>",
            message_id="m4@example.com",
            conversation="REF00004",
            queue="orders",
            priority=False,
            language="en",
            customer="c4@example.com",
            customer_name="",
            subject="Question 4",
            calendar="always",
            window=4 * HOUR,
            made_at=NEXT_MONDAY + 3.8 * HOUR,
            due_at=NEXT_MONDAY + 8 * HOUR,
            text="...",
            sent_message_id="<upd4@example.test>",
            warn_due=None,
            notify_due=None,
            update_due=None,
            is_update=True,
            supersedes=updated,
        )
    )
    assert replacement is not None
    book.settle(replacement, "kept", "agent copy", NEXT_MONDAY + 30 * HOUR)  # 30 h after first
    book.settle(unverified, "answered-unverified", "\\Answered flag", NEXT_MONDAY + 6 * HOUR)
    promise(book, 6, "billing", now - 3.7 * HOUR, now + 0.3 * HOUR)  # due soon
    promise(book, 7, "technical", now, now + 4 * HOUR)  # on track
    promise(book, 8, "billing", now - 5 * HOUR, now - HOUR)  # past due, breach not yet recorded
    for n, when in ((1, MONDAY), (2, MONDAY + HOUR), (3, NEXT_MONDAY), (4, NEXT_MONDAY)):
        acknowledged(ledger, n, when)
    ledger.close()
    monkeypatch.setenv("RESPONDER_STATE_DIR", str(state))
    monkeypatch.delenv("RESPONDER_CONFIG", raising=False)
    return state


def test_promises_lists_what_needs_a_person_by_due_time(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["promises", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(p["reference"], p["status"]) for p in listed] == [  # REF00003 broke weeks ago
        ("REF00005", "answered (unverified)"),
        ("REF00008", "breached"),
        ("REF00006", "due soon"),
        ("REF00007", "on track"),
    ]
    assert listed[0]["evidence"] == "\\Answered flag"
    assert cli.main(["promises"]) == 0
    text = capsys.readouterr().out
    assert "due soon" in text and "[#REF00006]" in text and "technical" in text


def test_promises_without_a_ledger_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RESPONDER_STATE_DIR", str(tmp_path / "nothing"))
    assert cli.main(["promises"]) == cli.EXIT_USAGE
    assert capsys.readouterr().err.startswith("responder: no ledger in")


def dump_dom(page: Path, profile: Path) -> str:
    browser = require(shutil.which("chromium"), "Debian's chromium (apt-get install chromium)")
    done = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout.decode()


def cell(dom: str, **attributes: str) -> int:
    selector = "".join(f'[^>]*data-{k}="{v}"' for k, v in attributes.items())
    found = re.search(rf"<[a-z]+{selector}[^>]*>([^<]*)<", dom)
    assert found, attributes
    return int(found.group(1))


def test_html_report_shows_the_numbers_in_a_real_browser(state: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    assert cli.main(["report", "--html", str(page)]) == 0
    source = page.read_text()
    assert not re.search(r"\b(src|href)\s*=|url\(|@import|<script", source)  # self-contained
    dom = dump_dom(page, tmp_path / "chromium-profile")
    assert "<h1>Promises" in dom  # the browser parsed and rendered our page
    assert cell(dom, queue="billing", state="kept") == 2
    assert cell(dom, queue="billing", state="broken") == 1
    assert cell(dom, queue="billing", state="open") == 2
    assert cell(dom, queue="orders", state="updated") == 1
    assert cell(dom, queue="orders", state="kept") == 1
    assert cell(dom, queue="orders", state="answered-unverified") == 1
    assert cell(dom, week="2026-W13", state="kept") == 2
    assert cell(dom, week="2026-W14", state="broken") == 1
    assert cell(dom, total="kept") == 3 and cell(dom, total="broken") == 1
    assert cell(dom, wait="under 1 h") == 1 and cell(dom, wait="1–4 h") == 1
    assert cell(dom, wait="4–8 h") == 1 and cell(dom, wait="1–3 days") == 1
    assert cell(dom, day="2026-03-23") == 2 and cell(dom, day="2026-03-30") == 2

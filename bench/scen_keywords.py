"""Scenario 6: what per-conversation keywords (`folders.reference_keywords`) cost a mailbox
with a long history.

Each filed conversation adds an IMAP keyword `#REFERENCE`. Dovecot never forgets a mailbox's
keywords: it lists all of them in every SELECT and again after every STORE that adds one, and
the service adds one per new conversation, in the INBOX, before the MOVE. So the cost grows
with the history, not with the backlog. Same backlog drained twice on fresh stacks seeded with
the keywords of `keyword_history` past conversations: once with the keywords on, once off.
"""

from __future__ import annotations

from bench.drainrun import DrainResult, drain
from bench.report import Section, Target, num
from bench.settings import Run

SETTING = "RESPONDER_FOLDERS_REFERENCE_KEYWORDS"


def scenario(run: Run) -> Section:
    history, count = run.sizes.keyword_history, run.sizes.keyword_backlog
    results = {
        on: drain(
            run,
            count,
            f"keywords-{'on' if on else 'off'}",
            history=history,
            settings={SETTING: "true" if on else "false"},
        )
        for on in (True, False)
    }
    return section(results[True], results[False])


def section(on: DrainResult, off: DrainResult) -> Section:
    seeded = on["history"]
    s = Section(
        key="keywords",
        title=f"6. Reference keywords on a mailbox with {seeded['conversations']:,} past "
        "conversations",
        notes=[
            f"history: the INBOX knows {seeded['conversations']:,} #REFERENCE keywords, each "
            f"queue folder a fifth of them (seeded in {seeded['seed_s']} s); SELECT INBOX then "
            f"takes {seeded['select_inbox_ms']} ms and its FLAGS line is "
            f"{seeded['flags_response_kb']} KB",
            f"backlog: {on.messages:,} generated messages, drained end to end as in scenario 3 "
            "(acknowledgments discarded by Postfix), once per setting, fresh stacks",
        ],
        columns=["reference_keywords", "messages", "seconds", "msgs/s", "service CPU s"],
    )
    for label, result in (("true", on), ("false", off)):
        d = result.data
        s.rows.append(
            [
                label,
                num(result.messages),
                num(d["seconds"], "s", 2),
                num(d["msgs_per_s"]),
                num(d["service_cpu_s"]),
            ]
        )
    ratio = off["msgs_per_s"] / on["msgs_per_s"] if on["msgs_per_s"] else None
    s.notes.append(f"keywords off / on: {ratio:.1f}x" if ratio else "keywords off / on: -")
    s.targets = [
        Target(
            "default (false) drains at least as fast",
            ">= 1.0x",
            f"{ratio:.1f}x" if ratio else "-",
            ratio is not None and ratio >= 1.0,
        )
    ]
    s.data = {"on": on.data, "off": off.data, "ratio_off_on": round(ratio or 0, 2)}
    return s

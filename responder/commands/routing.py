"""`responder routing learn --from-folders` and `responder routing report`.

`learn` bootstraps the learned router from mail already sitting in the queue folders (every
message there was put or left there by an agent: a label). `report` tells an admin, from the
ledger, what agents corrected and which rules fired on those messages: the rules to fix.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from pathlib import Path

from responder.config import Config
from responder.pipeline.decide import Pipeline
from responder.pipeline.parse import parse
from responder.service.daemon import state_lock
from responder.service.imap import Mailbox
from responder.service.learning import MODEL_FILE, Learner, imap_fetch
from responder.service.ledger import Ledger
from responder.service.watcher import open_client

CHUNK = 200  # messages fetched per round trip


def learn_from_folders(config: Config) -> int:
    """Learn every message in every queue folder (labelled by its folder); the service must
    be stopped, since both would write the model."""
    state_dir = config.state_dir()
    with state_lock(state_dir):
        ledger = Ledger.in_state_dir(state_dir)
        try:
            mailbox = Mailbox(config.imap, config.folders.inbox)
            mailbox.connect()
            try:
                folders = {
                    mailbox.folder_path(config.folders.queue_prefix, queue): queue
                    for queue in Pipeline(config).router.queues
                }
            finally:
                mailbox.close()
            pipeline = Pipeline(config)
            fetch = imap_fetch(lambda: open_client(config.imap), config.imap.endpoint)
            learner = Learner(ledger.db, state_dir, pipeline, folders, fetch)
            learned = 0
            for folder, queue in folders.items():
                flags = _flags(config, folder)
                uids = sorted(flags)
                count = 0
                for start in range(0, len(uids), CHUNK):
                    raws = fetch(folder, uids[start : start + CHUNK])
                    for uid, raw in raws.items():
                        key = parse(raw).key
                        filed_in = learner.filed_queue(key, flags[uid], queue)
                        count += learner.learn(key, raw, filed_in, queue)
                print(f"{folder}: {len(uids)} messages, {count} learned")
                learned += count
            learner.save()
            print(f"model: {learner.examples} examples in {state_dir / MODEL_FILE}")
        finally:
            ledger.close()
    return 0


def _flags(config: Config, folder: str) -> dict[int, frozenset[str]]:
    """Every message of a folder with its flags (our queue keyword says where we filed it)."""
    client = open_client(config.imap)
    try:
        if not client.folder_exists(folder):
            return {}
        client.select_folder(folder, readonly=True)
        uids = client.search("ALL")
        data = client.fetch(uids, ["FLAGS"]) if uids else {}
        return {
            int(uid): frozenset(
                f.decode("utf-8", "replace") if isinstance(f, bytes) else str(f)
                for f in item.get(b"FLAGS", ())
            )
            for uid, item in data.items()
        }
    finally:
        client.logout()


def report(config: Config, state: str | None = None) -> int:
    state_dir = Path(state) if state else config.state_dir()
    ledger = Ledger.read_only(state_dir)  # a missing ledger is a one-line error
    try:
        print(render_report(ledger.db))
    finally:
        ledger.close()
    return 0


def render_report(db: sqlite3.Connection) -> str:
    routed = dict(
        db.execute(
            "SELECT queue, count(*) FROM messages WHERE queue IS NOT NULL"
            " AND decision IN ('reply', 'follow-up', 'capped') GROUP BY queue ORDER BY queue"
        ).fetchall()
    )
    try:
        rows = db.execute(
            "SELECT from_queue, to_queue, fired FROM routing_examples"
            " WHERE from_queue IS NOT NULL AND from_queue != to_queue"
        ).fetchall()
        examples = int(db.execute("SELECT count(*) FROM routing_examples").fetchone()[0])
    except sqlite3.OperationalError:  # the service never ran with learning
        rows, examples = [], 0
    lines = ["Messages routed, by queue (ledger):"]
    lines += [f"  {queue:<12} {count:>7}" for queue, count in routed.items()] or ["  (none)"]
    total = sum(routed.values())
    share = f" ({len(rows) / total:.1%} of {total})" if total else ""
    lines += ["", f"Moved by agents to another queue: {len(rows)}{share}"]
    if rows:
        lines += ["", *confusion_table([(str(a), str(b)) for a, b, _ in rows])]
        lines += ["", "Rules that gave evidence on moved messages (fix these first):"]
        fired: dict[str, Counter[str]] = defaultdict(Counter)
        for _, to_queue, names in rows:
            for name in json.loads(names):
                fired[name][str(to_queue)] += 1
        ranked = sorted(fired.items(), key=lambda item: -sum(item[1].values()))
        for name, moved_to in ranked:
            where = ", ".join(f"{queue} {n}" for queue, n in moved_to.most_common())
            lines.append(f"  {name:<36} {sum(moved_to.values()):>4}  moved to: {where}")
    lines += ["", f"Labelled examples the learned router knows: {examples}"]
    return "\n".join(lines)


def confusion_table(pairs: list[tuple[str, str]], title: str = "filed in \\ moved to") -> list[str]:
    """Rows: where the message was put; columns: where it belonged."""
    queues = sorted({q for pair in pairs for q in pair})
    counts = Counter(pairs)
    width = max(10, *(len(q) + 1 for q in queues))
    lines = [f"  {title:<22}" + "".join(f"{q:>{width}}" for q in queues)]
    for row in queues:
        cells = "".join(f"{counts[(row, col)] or '.':>{width}}" for col in queues)
        lines.append(f"  {row:<22}" + cells)
    return lines

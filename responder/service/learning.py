"""Learning from agents' moves: a message we filed in one queue that an agent moved to another.

The shared folder watcher reports what appeared in each `Queues/` folder; a message whose
ledger row (by Message-ID) or whose queue keyword (the one we set when filing; it travels
with the message) names another queue is a correction. Its text is fetched once, reduced
to stems, stored as a labelled example in the ledger (`routing_examples`: stems and the
rules that fired, never the text) and learned; the model is saved as JSON in the state
directory and handed to the router, which consults it only when its rules are not
confident. Idempotent: an example already learned with the same label is skipped, so a
change reported twice (after a crash) changes nothing.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from imapclient import IMAPClient

from responder.config import Config
from responder.pipeline import language
from responder.pipeline.decide import Pipeline
from responder.pipeline.parse import parse
from responder.pipeline.routing import MessageFacts
from responder.pipeline.routing.learned import NaiveBayes, features
from responder.service.imaperrors import translated_errors
from responder.service.watcher import SeenMessage, open_client

log = logging.getLogger("responder.learning")

MODEL_FILE = "routing-model.json"
SCHEMA = """
CREATE TABLE IF NOT EXISTS routing_examples (  -- labelled by agents: moved, or left in a queue
    key         TEXT PRIMARY KEY,   -- the message's ledger key (Message-ID)
    language    TEXT NOT NULL,
    from_queue  TEXT,               -- where we filed it (NULL: not filed by us)
    to_queue    TEXT NOT NULL,      -- where the agent put it: the label
    features    TEXT NOT NULL,      -- JSON list of stems (no message text is kept)
    fired       TEXT NOT NULL,      -- JSON list of "rule:queue" that gave evidence
    rules_queue TEXT,               -- what the rules alone decide for it today
    learned_at  REAL NOT NULL
);
"""

# (folder, [uid]) -> {uid: raw bytes}: one EXAMINE and one FETCH per folder.
Fetch = Callable[[str, list[int]], dict[int, bytes]]
LEARN_BYTES = 256 * 1024  # what a customer wrote is at the start; attachments are not needed


@dataclass(frozen=True)
class Correction:
    key: str
    folder: str
    uid: int
    from_queue: str | None
    to_queue: str


class Learner:
    def __init__(
        self,
        db: sqlite3.Connection,
        state_dir: Path,
        pipeline: Pipeline,
        folders: dict[str, str],  # IMAP folder -> queue
        fetch: Fetch,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.path = state_dir / MODEL_FILE
        self.pipeline = pipeline
        self.folders = folders
        self.fetch = fetch
        self.clock = clock
        db.executescript(SCHEMA)
        self.model = load_model(self.path)
        if self.model.examples == 0 and self._stored_examples():
            self.retrain()  # the file was lost or unreadable: the ledger still has the examples
        self._attach()

    @classmethod
    def for_service(
        cls, config: Config, db: sqlite3.Connection, pipeline: Pipeline, delimiter: str = "/"
    ) -> Learner | None:
        """The service's learner on every queue folder (None when learning is off): hand its
        `observe` to the one folder watcher's consumers, with `folders` to watch."""
        if not config.routing.learn_from_moves:
            return None
        prefix = config.folders.queue_prefix
        folders = {f"{prefix}{delimiter}{queue}": queue for queue in pipeline.router.queues}
        fetch = imap_fetch(lambda: open_client(config.imap), config.imap.endpoint)
        return cls(db, config.state_dir(), pipeline, folders, fetch)

    def _stored_examples(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM routing_examples").fetchone()[0])

    # --- what the watcher reports ---

    def observe(self, changes: list[SeenMessage]) -> None:
        """The folder watcher's consumer (WATCHER.md): learn every correction among `changes`."""
        self.learn_moves(changes)

    def learn_moves(self, changes: Iterable[SeenMessage]) -> int:
        """As observe(); returns how many corrections were new."""
        corrections = [c for c in map(self.correction, changes) if c is not None]
        return self.learn_from(corrections)

    def correction(self, seen: SeenMessage) -> Correction | None:
        queue = self.folders.get(seen.folder)
        if queue is None or not seen.new or not seen.message_id:
            return None
        key = f"<{seen.message_id}>"
        filed_in = self.filed_queue(key, seen.flags, queue)
        if filed_in is None or filed_in == queue:
            return None
        return Correction(key, seen.folder, seen.uid, filed_in, queue)

    def filed_queue(self, key: str, flags: frozenset[str], here: str) -> str | None:
        """Where we filed it: its ledger row, else our queue keyword (it travels with a move)."""
        row = self.db.execute("SELECT queue FROM messages WHERE key = ?", (key,)).fetchone()
        if row is not None and row[0]:
            return str(row[0])
        queues = set(self.folders.values())
        keywords = [flag for flag in flags if flag in queues and flag != here]
        return keywords[0] if len(keywords) == 1 else (here if here in flags else None)

    # --- learning ---

    def learn_from(self, corrections: list[Correction]) -> int:
        todo = [c for c in corrections if self._label(c.key) != c.to_queue]
        by_folder: dict[str, list[Correction]] = {}
        for item in todo:
            by_folder.setdefault(item.folder, []).append(item)
        learned = 0
        for folder, items in by_folder.items():
            raws = self.fetch(folder, [item.uid for item in items])
            for item in items:
                raw = raws.get(item.uid)
                if raw is None:
                    log.info("%s: gone from %s before it could be learned", item.key, folder)
                    continue
                learned += self.learn(item.key, raw, item.from_queue, item.to_queue)
        if learned:
            self.save()
            log.info("routing: learned %d correction(s); model has %d", learned, self.examples)
        return learned

    def learn(self, key: str, raw: bytes, from_queue: str | None, to_queue: str) -> bool:
        """Store one labelled example and learn it (retraining if it had another label)."""
        previous = self._label(key)
        if previous == to_queue:
            return False
        message = parse(raw)
        reply = self.pipeline.config.reply
        lang = language.detect(
            f"{message.subject}\n{message.new_text}", reply.languages, reply.default_language
        )
        sender = message.reply_target[0].address.lower() if message.reply_target else ""
        facts = MessageFacts(message.subject, message.new_text, sender, lang)
        tokens = sorted(features(facts.subject, facts.body, lang))
        rules = self.pipeline.router.score(facts)
        fired = sorted({f"{item.rule}:{item.queue}" for item in rules.evidence})
        self.db.execute(
            "INSERT INTO routing_examples (key, language, from_queue, to_queue, features, fired,"
            " rules_queue, learned_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE"
            " SET to_queue = excluded.to_queue, learned_at = excluded.learned_at",
            (
                key,
                lang,
                from_queue,
                to_queue,
                json.dumps(tokens),
                json.dumps(fired),
                rules.queue,
                self.clock(),
            ),
        )
        if previous is None:
            self.model.learn(tokens, to_queue)
        else:
            self.retrain()  # naive Bayes cannot unlearn one example; it is cheap to redo
        return True

    def retrain(self) -> None:
        model = NaiveBayes()
        for tokens, label in self.db.execute(
            "SELECT features, to_queue FROM routing_examples ORDER BY learned_at"
        ):
            model.learn(json.loads(tokens), label)
        self.model = model
        self._attach()

    @property
    def examples(self) -> int:
        return self.model.examples

    def _label(self, key: str) -> str | None:
        row = self.db.execute("SELECT to_queue FROM routing_examples WHERE key = ?", (key,))
        found = row.fetchone()
        return str(found[0]) if found else None

    def _attach(self) -> None:
        self.pipeline.router = replace(self.pipeline.router, model=self.model)

    def save(self) -> None:
        save_model(self.model, self.path)


def load_model(path: Path) -> NaiveBayes:
    """The saved model, or an empty one (a new installation routes by its rules alone)."""
    try:
        return NaiveBayes.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return NaiveBayes()
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("%s: unreadable (%s); starting from the stored examples", path, exc)
        return NaiveBayes()


def save_model(model: NaiveBayes, path: Path) -> None:
    """Write-then-rename: a crash leaves the old model or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(model.to_dict(), handle, separators=(",", ":"))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def imap_fetch(connect: Callable[[], IMAPClient], endpoint: str = "IMAP") -> Fetch:
    """Fetch the first LEARN_BYTES of some messages of one folder on a short-lived session."""

    def fetch(folder: str, uids: list[int]) -> dict[int, bytes]:
        with translated_errors(endpoint, f"fetch from {folder} to learn"):
            client = connect()
            try:
                client.select_folder(folder, readonly=True)
                data = client.fetch(uids, [f"BODY.PEEK[]<0.{LEARN_BYTES}>"])
            finally:
                client.logout()
        found = {}
        for uid, item in data.items():
            body = next((v for k, v in item.items() if k.startswith(b"BODY[")), None)
            if body:
                found[int(uid)] = bytes(body)
        return found

    return fetch

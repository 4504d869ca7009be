"""The learner's bookkeeping without a server: which reported messages are corrections, that a
change reported twice is learned once, that a second move relabels, and that the model
survives a restart (and a lost model file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from responder import config
from responder.devstack.routing_corpus import LabelledMail
from responder.pipeline.decide import Pipeline
from responder.service.learning import MODEL_FILE, Learner
from responder.service.ledger import Ledger, NewMessage
from responder.service.watcher import SeenMessage

FOLDERS = {f"Queues/{q}": q for q in ("billing", "technical", "orders", "account", "general")}
# A mail the shipped rules cannot place (no keyword of any queue): the model must decide.
MAIL = LabelledMail("technical", "en", "Hello", "The front light of my e-bike stays dark.")


class Box:
    """What the fake IMAP folders hold: (folder, uid) -> raw bytes; fetches are counted."""

    def __init__(self) -> None:
        self.raw: dict[tuple[str, int], bytes] = {}
        self.fetches = 0

    def fetch(self, folder: str, uids: list[int]) -> dict[int, bytes]:
        self.fetches += 1
        return {uid: self.raw[(folder, uid)] for uid in uids if (folder, uid) in self.raw}


def seen(folder: str, uid: int, message_id: str, *flags: str, new: bool = True) -> SeenMessage:
    return SeenMessage(folder, uid, message_id, frozenset(flags), b"", new)


def filed(ledger: Ledger, key: str, queue: str) -> None:
    ledger.record(
        NewMessage(
            key=key,
            uidvalidity=1,
            uid=1,
            decision="reply",
            reason=None,
            queue=queue,
            priority=False,
            language="en",
            reference="R",
            conversation="R",
            sender="a@b",
            subject_norm="hello",
            folder=f"Queues/{queue}",
            thread_ids=(),
            ack_message_id=None,
            ack_to=None,
            ack_bytes=None,
            respond_by=None,
        )
    )


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Ledger, Box, Learner]:
    ledger = Ledger.in_state_dir(tmp_path)
    box = Box()
    learner = Learner(
        ledger.db, tmp_path, Pipeline(config.load(None, environ={})), FOLDERS, box.fetch
    )
    return ledger, box, learner


def test_a_move_is_a_correction_our_own_filing_is_not(setup: tuple[Ledger, Box, Learner]) -> None:
    ledger, box, learner = setup
    raw = MAIL.as_eml()
    message_id = raw.split(b"Message-ID: <")[1].split(b">")[0].decode()
    filed(ledger, f"<{message_id}>", "general")
    box.raw[("Queues/technical", 7)] = raw
    box.raw[("Queues/general", 3)] = raw
    ours = seen("Queues/general", 3, message_id, "general")
    moved = seen("Queues/technical", 7, message_id, "general")
    assert learner.learn_moves([ours, seen("INBOX", 1, message_id)]) == 0
    assert learner.learn_moves([moved]) == 1
    assert learner.learn_moves([moved]) == 0 and box.fetches == 1  # reported again: nothing to do
    assert learner.model.docs == {"technical": 1}
    row = ledger.db.execute(
        "SELECT from_queue, to_queue, rules_queue FROM routing_examples"
    ).fetchone()
    assert row == ("general", "technical", "general")


def test_the_queue_keyword_identifies_a_move_without_a_ledger_row(
    setup: tuple[Ledger, Box, Learner],
) -> None:
    _ledger, box, learner = setup
    box.raw[("Queues/orders", 5)] = MAIL.as_eml()
    assert learner.learn_moves([seen("Queues/orders", 5, "x@y", "billing", "#K7Q2M9XA")]) == 1
    assert learner.model.docs == {"orders": 1}


def test_a_second_move_relabels_and_the_model_survives_a_restart(
    setup: tuple[Ledger, Box, Learner], tmp_path: Path
) -> None:
    ledger, box, learner = setup
    box.raw[("Queues/orders", 5)] = box.raw[("Queues/technical", 6)] = MAIL.as_eml()
    learner.learn_moves([seen("Queues/orders", 5, "x@y", "billing")])
    learner.learn_moves([seen("Queues/technical", 6, "x@y", "billing")])
    assert learner.model.docs == {"technical": 1}
    pipeline = Pipeline(config.load(None, environ={}))
    again = Learner(ledger.db, tmp_path, pipeline, FOLDERS, box.fetch)
    assert again.model.to_dict() == learner.model.to_dict()
    assert pipeline.router.model is again.model
    (tmp_path / MODEL_FILE).write_text("{not json")
    rebuilt = Learner(ledger.db, tmp_path, pipeline, FOLDERS, box.fetch)
    assert rebuilt.model.docs == {"technical": 1}  # rebuilt from the stored examples


def test_inspect_with_state_routes_with_the_learned_model_and_report_reads_the_ledger(
    setup: tuple[Ledger, Box, Learner],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from responder.cli import main
    from responder.devstack.routing_mailgen import SITUATIONS

    ledger, box, learner = setup
    for n, body in enumerate(SITUATIONS["technical"]["en"] * 4):
        mail = LabelledMail("technical", "en", "Hello", body.format(bike="e-bike", n=9))
        box.raw[("Queues/technical", n)] = mail.as_eml()
        learner.learn_moves([seen("Queues/technical", n, f"m{n}@x", "general")])
    learner.save()
    eml = tmp_path / "new.eml"
    eml.write_bytes(MAIL.as_eml())
    assert main(["inspect", "--json", "--state", str(tmp_path), str(eml)]) == 0
    routing = json.loads(capsys.readouterr().out)["routing"]
    assert (routing["queue"], routing["source"]) == ("technical", "learned")
    assert main(["inspect", "--json", str(eml)]) == 0  # without the state: the rules alone
    assert json.loads(capsys.readouterr().out)["routing"]["source"] == "fallback"
    ledger.close()
    assert main(["routing", "report", "--state", str(tmp_path)]) == 0
    report = capsys.readouterr().out
    assert "Moved by agents to another queue: 20" in report
    assert "general" in report and "technical" in report
    assert main(["routing", "learn"]) == 2  # --from-folders is required

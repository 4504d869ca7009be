"""A message the service cannot handle never stops the others and is never lost: Quarantine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from servicekit import customer_mail, messages_by_folder

from responder import config as config_module
from responder.devstack.demo import environment_for
from responder.devstack.mailstack import MailStack
from responder.pipeline.decide import Decision, Pipeline
from responder.pipeline.parse import ParsedMessage
from responder.service.ledger import Ledger
from responder.service.loop import Service

pytestmark = pytest.mark.stack
DESK = "bench189@example.test"


class PoisonedPipeline(Pipeline):
    """Fault injection: fails on every message whose subject says "poison"."""

    def decide_parsed(self, message: ParsedMessage, **kwargs: object) -> Decision:
        if "poison" in message.subject:
            raise RuntimeError("simulated failure while deciding")
        return super().decide_parsed(message, **kwargs)  # type: ignore[arg-type]


def test_failing_message_goes_to_quarantine_after_three_tries(
    mailstack: MailStack, tmp_path: Path
) -> None:
    mailstack.clear(DESK)
    for subject in ("poison pill", "My invoice is wrong"):
        raw = customer_mail("customer1@example.test", DESK, subject, "Hello, please help me.")
        mailstack.deliver(DESK, raw, "customer1@example.test")
    env = {**os.environ, **environment_for(mailstack, tmp_path / "state", DESK)}
    config = config_module.load(None, environ=env)
    ledger = Ledger.in_state_dir(config.state_dir())
    try:
        service = Service(config, ledger, PoisonedPipeline(config))
        service.run(once=True)
        after_first = messages_by_folder(mailstack, DESK)
        assert [m["Subject"] for m in after_first["INBOX"]] == ["poison pill"]  # kept, not lost
        assert [m["Subject"] for m in after_first["Queues/billing"]] == ["My invoice is wrong"]
        for _ in range(2):
            Service(config, ledger, PoisonedPipeline(config)).run(once=True)
        final = messages_by_folder(mailstack, DESK)
        assert not final["INBOX"]
        assert [m["Subject"] for m in final["Quarantine"]] == ["poison pill"]
        assert ledger.counter("quarantined") == 1
    finally:
        ledger.close()

"""The decision table: every fixture in tests/fixtures/cases.toml, decided as the service would.

Adding a case is adding an .eml file and a row (see flufl.bounce's tests).
"""

from __future__ import annotations

import dataclasses
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from responder import config
from responder.pipeline.decide import Pipeline
from responder.pipeline.guard import RULES
from responder.pipeline.routing import build_router

FIXTURES = Path(__file__).parent / "fixtures"
CASES: list[dict[str, Any]] = tomllib.loads((FIXTURES / "cases.toml").read_text(encoding="utf-8"))[
    "case"
]
QUEUES = ("billing", "technical", "orders", "account", "general")
LANGUAGES = ("en", "es", "nl", "de", "fr", "pt")


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    """The shipped configuration, plus what the fixtures assume: one more own address, a VIP domain."""
    base = config.load(None, environ={})
    loaded = dataclasses.replace(
        base, mailbox=dataclasses.replace(base.mailbox, aliases=("help@example.test",))
    )
    rules = tomllib.loads(Path(loaded.routing.rules).read_text(encoding="utf-8"))
    rules.setdefault("priority", {})["vip_domains"] = ["vip.example"]
    return Pipeline(loaded, router=build_router(rules))


@pytest.mark.parametrize("case", CASES, ids=[case["file"] for case in CASES])
def test_case(pipeline: Pipeline, case: dict[str, Any]) -> None:
    decision = pipeline.decide((FIXTURES / case["file"]).read_bytes())
    assert decision.auto_reply == case["auto_reply"], decision.reason
    if not case["auto_reply"]:
        assert decision.reason == case["reason"]
        assert decision.reply is None
        return
    assert decision.reason is None and decision.reply is not None
    assert (decision.language, decision.queue, decision.priority) == (
        case["language"],
        case["queue"],
        case["priority"],
    ), decision.priority_reasons


def test_every_guard_rule_has_a_fixture() -> None:
    covered = {case.get("reason") for case in CASES}
    assert {rule.name for rule in RULES} <= covered


def test_every_queue_in_every_language_has_a_fixture() -> None:
    covered = {(case.get("queue"), case.get("language")) for case in CASES if case["auto_reply"]}
    missing = {(q, lang) for q in QUEUES for lang in LANGUAGES} - covered
    assert not missing


def test_pipeline_costs_under_5_ms_per_message(pipeline: Pipeline) -> None:
    """The README's figure comes from bench/; this guards against a large regression."""
    raws = [(FIXTURES / case["file"]).read_bytes() for case in CASES]
    pipeline.decide(raws[0])  # models loaded once per process, not per message
    started = time.perf_counter()
    for raw in raws:
        pipeline.decide(raw)
    per_message = (time.perf_counter() - started) / len(raws)
    assert per_message < 0.005, f"{per_message * 1e3:.2f} ms per message"

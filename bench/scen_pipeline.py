"""Scenario 5: what the pure pipeline costs per message, stage by stage, without I/O.

Every `.eml` under tests/ is read into memory first; then `Pipeline(config).decide(raw)` runs
over the corpus `rounds` times (after one unmeasured warm-up round that loads the language
models and compiles the templates). The stages are timed by wrapping the functions the
pipeline calls (parse, judge, language.detect, router.route, the reply rendering) in this
process only; the service's code is not changed. "serialize" is `reply.as_bytes()`, which
the service does right after deciding, reported on its own (not part of decide).
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import responder.pipeline.decide
import responder.pipeline.language
from bench.report import Section, num
from bench.service import bench_config
from bench.settings import Run
from bench.stats import percentile
from responder.pipeline.decide import Pipeline

TESTS = Path(__file__).resolve().parent.parent / "tests"
STAGES = ("parse", "guard", "language", "route", "render")


class _Clock:
    """Accumulates nanoseconds per stage for the message being decided."""

    def __init__(self) -> None:
        self.spent: dict[str, int] = defaultdict(int)

    def wrap(self, stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter_ns()
            try:
                return function(*args, **kwargs)
            finally:
                self.spent[stage] += time.perf_counter_ns() - started

        return timed


class _TimedRouter:
    def __init__(self, router: Any, clock: _Clock) -> None:
        self._router = router
        self.route = clock.wrap("route", router.route)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._router, name)


def load_pipeline() -> Pipeline:
    """The pipeline with the service's configuration (built-in config + benchmark settings)."""
    return Pipeline(bench_config())


# (module, attribute, stage): the module-level functions Pipeline.decide looks up at call time.
_PATCHES = (
    (responder.pipeline.decide, "parse", "parse"),
    (responder.pipeline.decide, "judge", "guard"),
    (responder.pipeline.language, "detect", "language"),
)


@contextlib.contextmanager
def instrumented(pipeline: Pipeline, clock: _Clock) -> Iterator[None]:
    originals = [getattr(module, name) for module, name, _ in _PATCHES]
    for (module, name, stage), original in zip(_PATCHES, originals, strict=True):
        setattr(module, name, clock.wrap(stage, original))
    router = pipeline.router
    pipeline.router = _TimedRouter(router, clock)  # type: ignore[assignment]
    pipeline._with_reply = clock.wrap("render", pipeline._with_reply)  # type: ignore[method-assign]
    try:
        yield
    finally:
        for (module, name, _), original in zip(_PATCHES, originals, strict=True):
            setattr(module, name, original)
        pipeline.router = router
        del pipeline._with_reply


def measure(rounds: int) -> dict[str, Any]:
    files = sorted(TESTS.rglob("*.eml"))
    corpus = [(f.relative_to(TESTS).as_posix(), f.read_bytes()) for f in files]
    pipeline = load_pipeline()
    clock = _Clock()
    per_message: dict[str, list[float]] = defaultdict(list)
    per_stage: dict[str, list[float]] = defaultdict(list)
    totals: list[float] = []
    serialize: list[float] = []
    replies = 0
    with instrumented(pipeline, clock):
        for round_ in range(rounds + 1):
            for name, raw in corpus:
                clock.spent.clear()
                started = time.perf_counter_ns()
                decision = pipeline.decide(raw)
                total = time.perf_counter_ns() - started
                if round_ == 0:
                    continue  # warm-up: models, templates, regex caches
                per_message[name].append(total / 1000)
                totals.append(total / 1000)
                for stage in STAGES:
                    per_stage[stage].append(clock.spent.get(stage, 0) / 1000)
                if decision.reply is not None:
                    replies += 1
                    started = time.perf_counter_ns()
                    decision.reply.as_bytes()
                    serialize.append((time.perf_counter_ns() - started) / 1000)
    medians = [statistics.median(v) for v in per_message.values()]
    mean_total = statistics.fmean(totals) if totals else 0.0
    stages = {stage: round(statistics.fmean(per_stage[stage]), 1) for stage in STAGES}
    return {
        "files": len(corpus),
        "kilobytes": round(sum(len(r) for _, r in corpus) / 1024, 1),
        "rounds": rounds,
        "replied_share": round(replies / max(1, rounds * len(corpus)), 2),
        "decide_us": {
            "p50": round(percentile(medians, 50), 1),
            "p95": round(percentile(medians, 95), 1),
            "max": round(max(medians, default=0.0), 1),
            "mean": round(mean_total, 1),
        },
        "stage_mean_us": stages,
        "serialize_mean_us": round(statistics.fmean(serialize), 1) if serialize else None,
        "slowest": sorted(
            ((round(statistics.median(v), 1), k) for k, v in per_message.items()), reverse=True
        )[:3],
    }


def scenario(run: Run) -> Section:
    run.say(f"pipeline: {run.sizes.pipeline_rounds} rounds over the tests/ .eml corpus")
    m = measure(run.sizes.pipeline_rounds)
    total = m["decide_us"]["mean"]
    s = Section(
        key="pipeline",
        title=f"5. Pipeline cost per message ({m['files']} .eml files from tests/, "
        f"{m['kilobytes']} KB; {m['rounds']} rounds after a warm-up round)",
        notes=[
            "Pipeline(config).decide(raw) in this process, corpus in memory, no ledger: no "
            "network, no disk (Jinja only stat()s its template files)",
            f"{round(100 * m['replied_share'])} % of the corpus gets an acknowledgment (the "
            "rest is refused by the guard and skips rendering); per-file figure = median of "
            "the rounds",
        ],
        columns=["", "mean", "share", "note"],
    )
    for stage in STAGES:
        spent = m["stage_mean_us"][stage]
        s.rows.append(
            [
                stage,
                f"{spent:,.1f} µs",
                f"{100 * spent / total:.0f} %" if total else "-",
                _stage_note(stage),
            ]
        )
    other = total - sum(m["stage_mean_us"].values())
    s.rows.append(
        [
            "other (decide's own code)",
            f"{other:,.1f} µs",
            f"{100 * other / total:.0f} %" if total else "-",
            "",
        ]
    )
    d = m["decide_us"]
    s.rows.append(
        [
            "decide(), total",
            f"{total:,.1f} µs",
            "100 %",
            f"p50 {d['p50']:,.1f} µs, p95 {d['p95']:,.1f} µs, max {d['max']:,.1f} µs; "
            f"{num(1e6 / total if total else None, 'msgs/s', 0)} on one core",
        ]
    )
    if m["serialize_mean_us"] is not None:
        s.rows.append(
            [
                "reply.as_bytes() (service)",
                f"{m['serialize_mean_us']:,.1f} µs",
                "",
                "per acknowledgment, after decide()",
            ]
        )
    s.data = m
    return s


def _stage_note(stage: str) -> str:
    return {
        "parse": "MIME, headers, HTML to text, quote stripping",
        "guard": "RFC 3834 / loop rules, machine-mail rules, flufl.bounce when gated",
        "language": "lingua, restricted to the configured languages",
        "route": "stems, evidence scoring over the rules, priority",
        "render": "Jinja sandbox + Babel dates (replied mail only)",
    }[stage]

"""Command line: pick the sizes and scenarios, check the machine can run them, print, save."""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import machine, profiling
from bench.report import Section, summary_lines, write_json
from bench.service import BENCH_SETTINGS, bench_config, passthrough_settings
from bench.settings import FULL, QUICK, Run
from responder.devstack.mailstack import servers_available

OUT_DIR = Path(__file__).resolve().parent / "out"
SCENARIOS = ("latency", "burst", "drain", "memory", "pipeline", "keywords", "routing")
PURE = ("pipeline", "routing")  # no mail stack needed


def _scenario(name: str) -> Callable[[Run], Section]:
    """Imported lazily so `--only pipeline` does not need the mail stack modules' imports."""
    if name == "latency":
        from bench.scen_latency import scenario
    elif name == "burst":
        from bench.scen_burst import scenario
    elif name == "drain":
        from bench.scen_drain import scenario
    elif name == "memory":
        from bench.scen_memory import scenario
    elif name == "keywords":
        from bench.scen_keywords import scenario
    elif name == "routing":
        from bench.scen_routing import scenario
    else:
        from bench.scen_pipeline import scenario
    return scenario


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the responder against a local Dovecot + Postfix (issue #6).",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: N=20, burst 100, backlog 500/100, 10 s idle (~1.5 min)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        metavar="FILE",
        help="write all figures here (default: bench/out/bench-<time>.json)",
    )
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"comma-separated subset of: {', '.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="attach py-spy to the service (latency, drain); figures then include its overhead",
    )
    parser.add_argument("--seed", type=int, default=6, help="seed of the generated mail")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    return parser.parse_args(argv)


def config_problems() -> list[str]:
    """What would stop `responder run` from starting with the benchmark's settings."""
    from responder.lint.preflight import template_problems

    return template_problems(bench_config())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(chosen) - set(SCENARIOS))
    if unknown:
        print(
            f"bench: unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}"
        )
        return 2
    needs_stack = any(s not in PURE for s in chosen)
    reason = servers_available() if needs_stack else None
    if reason:
        print(f"bench: cannot run the mail stack: {reason}")
        return 1
    problems = config_problems()
    if problems and needs_stack:
        listing = "\n  ".join(problems[:20])
        print(
            f"bench: `responder run` would refuse to start, templates fail lint:\n  {listing}\n"
            "Wait for the templates to be finished, or point RESPONDER_REPLY_TEMPLATES (and "
            "RESPONDER_REPLY_LANGUAGES) at a copy that passes `responder lint`."
        )
        return 1
    if args.profile and profiling.available() is None:
        print("bench: --profile needs py-spy (pip install py-spy)")
        return 1

    workdir = Path(tempfile.mkdtemp(prefix="responder-bench-"))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    json_path = args.json or OUT_DIR / f"bench-{stamp}.json"
    sizes = QUICK if args.quick else FULL
    run = Run(
        workdir=workdir,
        out_dir=OUT_DIR / f"profile-{stamp}",
        sizes=sizes,
        seed=args.seed,
        profile=args.profile,
    )
    settings = BENCH_SETTINGS | passthrough_settings()
    header = machine.describe() | {
        "mode": "quick" if args.quick else "full",
        "sizes": sizes.as_dict(),
        "service_settings": settings,
        "profiled": args.profile,
    }
    print("\n".join(machine.header_lines(header)))
    print(
        f"sizes    {'--quick' if args.quick else 'full (issue #6)'}: "
        + ", ".join(f"{k}={v}" for k, v in sizes.as_dict().items())
    )
    print(
        "service  `python -m responder run` with "
        + ", ".join(f"{k}={v}" for k, v in settings.items())
        + " (caps raised so a benchmark sender is never capped)"
    )
    if args.profile:
        print("NOTE     --profile: py-spy samples the service; figures include its overhead")

    sections: list[Section] = []
    try:
        for name in chosen:
            run.say(f"scenario {name}")
            try:
                section = _scenario(name)(run)
            except Exception as exc:  # one broken scenario must not hide the rest
                traceback.print_exc()
                section = Section(
                    key=name, title=f"{name}: FAILED", notes=[f"{type(exc).__name__}: {exc}"[:2000]]
                )
            sections.append(section)
            print(section.render(), flush=True)
            write_json(json_path, header, sections)
    finally:
        if args.keep:
            print(f"\nwork directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print("\n".join(summary_lines(sections)))
    print(f"\nJSON: {json_path}")
    run.say("done")
    failed = any(s.title.endswith("FAILED") for s in sections)
    return 1 if failed else 0

"""Scenario 4: memory and scale — peak RSS for a small and a large backlog, and idle CPU.

Peak RSS is the service process's VmHWM (/proc/PID/status), read when the drain is done: the
most memory it ever held. "Must not grow with the backlog" is judged by the large figure
against the small one. A separate probe process shows how much of it is the interpreter and
imports and how much the language models. Idle CPU: utime+stime (/proc/PID/stat, 10 ms ticks)
over a fixed window after the small drain, while the service sits in IMAP IDLE with nothing to
do, cross-checked with schedstat (nanoseconds) and the number of wake-ups.
"""

from __future__ import annotations

from typing import Any

from bench import memprobe
from bench.drainrun import DrainResult, drain, mb
from bench.report import Section, Target, num
from bench.settings import Run


def scenario(run: Run) -> Section:
    run.say("memory: RSS of the interpreter, the service's imports and its language models")
    steps = memprobe.probe()
    small = drain(
        run,
        run.sizes.backlog_small,
        "memory-small",
        idle_seconds=run.sizes.idle_seconds,
        baseline=True,
    )
    large = run.shared.get("drain")
    if not isinstance(large, DrainResult):
        large = drain(run, run.sizes.backlog, "memory-large")
    return section(small, large, steps)


def _row(label: str, count: str, peak: float | None, now: float | None, note: str) -> list[str]:
    return [label, count, f"{peak} MB", f"{now} MB", note]


def section(small: DrainResult, large: DrainResult, steps: dict[str, Any]) -> Section:
    base = small["baseline"]
    idle = small["idle"]
    s_peak, l_peak = mb(small["peak_rss_kib"]), mb(large["peak_rss_kib"])
    assert s_peak is not None and l_peak is not None
    growth = (l_peak - s_peak) / s_peak
    imports, models = steps["imports"], steps["detector"]
    s = Section(
        key="memory",
        title="4. Memory and scale",
        notes=[
            "peak RSS = VmHWM of the `responder run` process (MB = 10^6 bytes), read when the "
            "drain is done; baseline = the service READY on an empty INBOX (the language "
            "models are loaded on the first mail, so not yet in the baseline)",
            f"idle CPU = utime+stime over {idle['seconds']} s in IMAP IDLE after the "
            f"{small.messages:,}-message drain (3 s settle first)",
        ],
        columns=["", "messages", "peak RSS", "RSS", "note"],
    )
    s.rows = [
        _row("python + the service's imports", "", mb(imports["hwm_kib"]),
             mb(imports["rss_kib"]), "probe process"),
        _row(f"  + language models ({len(steps['languages'])} languages)", "",
             mb(models["hwm_kib"]), mb(models["rss_kib"]),
             "probe process: lingua, preloaded, " + ",".join(steps["languages"])),
        _row("service, empty INBOX", "0", mb(base["hwm_kib"]), mb(base["rss_kib"]),
             f"READY after {base['ready_s']} s"),
        _row(f"service, backlog {small.messages:,}", num(small.messages), s_peak,
             mb(small["rss_kib"]), f"drained at {num(small['msgs_per_s'])} msgs/s"),
        _row(f"service, backlog {large.messages:,}", num(large.messages), l_peak,
             mb(large["rss_kib"]), f"drained at {num(large['msgs_per_s'])} msgs/s"),
        ["growth large vs small", "", f"{100 * growth:+.1f} %", "", ""],
        [f"idle CPU over {idle['seconds']} s", "", "", "",
         f"{idle['cpu_s']} s = {idle['pct_of_one_core']} % of one core (utime+stime)"],
        ["", "", "", "", f"schedstat: {idle['schedstat_cpu_ms']} ms = "
         f"{idle['schedstat_pct_of_one_core']} %, {idle['wakeups_per_s']} wake-ups/s"],
    ]  # fmt: skip
    s.targets = [
        Target(f"peak RSS at {large.messages:,}", "<= 150 MB", f"{l_peak} MB", l_peak <= 150),
        Target(
            f"peak RSS {large.messages:,} vs {small.messages:,}",
            "within 10 %",
            f"{100 * growth:+.1f} %",
            growth <= 0.10,
        ),
        Target(
            "idle CPU (IDLE)",
            "< 1 % of one core",
            f"{idle['pct_of_one_core']} %",
            idle["pct_of_one_core"] < 1.0,
        ),
    ]
    s.data = {
        "steps": steps,
        "baseline": base,
        "small": _figures(small),
        "large": _figures(large),
        "growth_pct": round(100 * growth, 1),
        "idle": idle,
    }
    return s


def _figures(result: DrainResult) -> dict[str, Any]:
    keys = ("peak_rss_kib", "rss_kib", "msgs_per_s")
    return {"messages": result.messages, **{k: result[k] for k in keys}}

"""`--profile`: py-spy on the running service, summarised as "% of wall time per function".

Why py-spy: it samples the real `responder run` process from outside, so the service runs
unmodified. `--idle` keeps samples where the service waits (for Dovecot, Postfix, fsync),
because for a network daemon the waiting is usually where the time goes. Samples are taken
without pausing the process (--nonblocking) to disturb it as little as possible.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def available() -> str | None:
    """The py-spy executable, or None (it is optional: `pip install py-spy`)."""
    return shutil.which("py-spy")


class Profiler:
    def __init__(self, pid: int, output: Path, rate: int = 100) -> None:
        exe = available()
        if exe is None:
            raise RuntimeError("py-spy is not installed (pip install py-spy)")
        self.output = output
        output.parent.mkdir(parents=True, exist_ok=True)
        self._log = output.with_suffix(".log").open("wb")
        self.process = subprocess.Popen(
            [
                exe,
                "record",
                "--pid",
                str(pid),
                "--rate",
                str(rate),
                "--idle",
                "--nonblocking",
                "--threads",
                "--format",
                "raw",
                "--output",
                str(output),
            ],
            stdout=self._log,
            stderr=self._log,
            stdin=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        """SIGINT makes py-spy write its output and exit."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()


def _short(path: str) -> str:
    for marker in ("/site-packages/", "/lib/python3.11/", "/work/main/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def _frame(text: str) -> str:
    found = _FRAME.match(text.strip())
    if not found:
        return text.strip()
    return f"{_short(found['file'])}:{found['func']}"


def _group(thread: str) -> str:
    """`thread (123): ThreadPoolExecutor-0_3` -> `ThreadPoolExecutor-0_*`: one line per pool."""
    name = thread.split(":", 1)[1].strip() if ":" in thread else thread
    return re.sub(r"\d+$", "*", name) if name != "MainThread" else name


def summarize(raw: Path, top: int = 12) -> dict[str, object]:
    """Per thread group: its samples, and the inclusive share of the service's own functions
    (responder/*) and the self share of every function, in % of that group's samples."""
    groups: dict[str, dict[str, Counter[str]]] = {}
    samples: Counter[str] = Counter()
    if not raw.exists():
        return {"samples": 0, "threads": {}}
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        thread, *frames_text = stack.split(";")
        frames = [_frame(f) for f in frames_text if f.strip()]
        if not frames:
            continue
        group = _group(thread)
        counters = groups.setdefault(group, {"inclusive": Counter(), "self": Counter()})
        samples[group] += count
        for name in set(frames):
            if name.startswith("responder/"):
                counters["inclusive"][name] += count
        counters["self"][frames[-1]] += count
    threads: dict[str, object] = {}
    ordered = sorted(samples.items(), key=lambda kv: (kv[0] != "MainThread", -kv[1]))
    for group, n in ordered:
        threads[group] = {
            "samples": n,
            "inclusive": [
                (k, round(100 * v / n, 1)) for k, v in groups[group]["inclusive"].most_common(top)
            ],
            "self": [(k, round(100 * v / n, 1)) for k, v in groups[group]["self"].most_common(top)],
        }
    return {"samples": sum(samples.values()), "threads": threads}


def lines(summary: dict[str, object], groups: int = 3) -> list[str]:
    threads = summary["threads"]
    assert isinstance(threads, dict)
    out = [
        f"py-spy: {summary['samples']} samples at 100 Hz per thread, wall clock (waiting "
        "included); % of each thread group's samples"
    ]
    for group, data in list(threads.items())[:groups]:
        out.append(f"[{group}] {data['samples']} samples")
        out.append("  inclusive (the service's functions and what they call):")
        out += [f"    {pct:5.1f}%  {name}" for name, pct in data["inclusive"]]
        out.append("  self (where the sample was taken):")
        out += [f"    {pct:5.1f}%  {name}" for name, pct in data["self"]]
    return out

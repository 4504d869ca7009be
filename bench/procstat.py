"""Where the machine's CPU went during a phase: the service, Dovecot, Postfix, us, and others.

Why: on two cores a responder can be slow because it computes, or because Dovecot and
Postfix (which it drives) are saturated, or because something else on the box was busy.
Snapshots of /proc/*/stat before and after a phase tell these apart. Processes that exited
during the phase are counted through their parent's cutime/cstime (both masters reap theirs).
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from responder.devstack.mailstack import MailStack

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    start: int  # start time in ticks: tells a reused pid apart
    label: str
    cpu: float  # utime + stime, seconds
    reaped: float  # cutime + cstime: children that exited and were waited for


def _label(pid: int, comm: str) -> str:
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        exe = ""
    if "/dovecot" in exe:
        return f"dovecot {comm}"
    if "/postfix/" in exe:
        return f"postfix {comm}"
    return comm


def snapshot() -> dict[int, Proc]:
    procs: dict[int, Proc] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            raw = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        f = raw[raw.rindex(")") + 2 :].split()
        procs[pid] = Proc(
            pid=pid,
            ppid=int(f[1]),
            start=int(f[19]),
            label=_label(pid, comm),
            cpu=(int(f[11]) + int(f[12])) / TICKS,
            reaped=(int(f[13]) + int(f[14])) / TICKS,
        )
    return procs


def machine_busy() -> tuple[float, float]:
    """(busy seconds, total seconds) summed over all CPUs since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / TICKS, sum(values) / TICKS


def stack_masters(stack: MailStack) -> set[int]:
    """The pids of this stack's Dovecot and Postfix masters (from their pid files)."""
    pids = set()
    for pidfile in (
        stack.state_dir / "run" / "dovecot" / "master.pid",
        stack.state_dir / "postfix" / "queue" / "pid" / "master.pid",
    ):
        try:
            pids.add(int(pidfile.read_text().split()[0]))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def _descends(pid: int, roots: set[int], procs: dict[int, Proc]) -> bool:
    seen = 0
    while pid > 1 and seen < 64:
        if pid in roots:
            return True
        proc = procs.get(pid)
        if proc is None:
            return False
        pid, seen = proc.ppid, seen + 1
    return pid in roots


def cpu_by_group(
    before: dict[int, Proc], after: dict[int, Proc], service_pid: int, stack: MailStack
) -> dict[str, float]:
    """CPU seconds per group over the phase; anything not ours is "other processes"."""
    masters = stack_masters(stack)
    bench = os.getpid()
    groups: dict[str, float] = defaultdict(float)
    for pid, now in after.items():
        then = before.get(pid)
        same = then is not None and then.start == now.start
        used = now.cpu - (then.cpu if same and then else 0.0)
        reaped = now.reaped - (then.reaped if same and then else 0.0)
        if pid == service_pid:
            group = "responder service"
        elif pid == bench:
            group = "benchmark driver"
        elif _descends(pid, masters, after):
            group = now.label
        else:
            group = "other processes (not this benchmark)"
        groups[group] += used
        if reaped > 0 and group != "other processes (not this benchmark)":
            groups[f"{group}: exited children"] += reaped
        elif reaped > 0:
            groups[group] += reaped
    return {k: round(v, 2) for k, v in sorted(groups.items(), key=lambda kv: -kv[1]) if v >= 0.01}

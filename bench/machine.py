"""What the figures were measured on: date, machine, versions, and whatever else was running.

Benchmark figures mean nothing without the machine and the versions, and on a shared 2-core
box they also mean nothing without knowing what else was busy, so the header records the load
average and the git state of the code under test.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Dovecot and Postfix tools live in /usr/sbin, which is not on every PATH.
_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin", "/sbin"])


def _run(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    return (done.stdout or done.stderr).strip()


def _tool(name: str, *args: str) -> str:
    path = shutil.which(name, path=_SEARCH_PATH)
    return _run([path, *args]) if path else "not installed"


def _package(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _meminfo_mib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return 0


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _git() -> str:
    head = _run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = _run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"])
    return head + (" + uncommitted changes" if dirty else "")


def describe() -> dict[str, object]:
    """The header of every report."""
    postfix = _tool("postconf", "-d", "mail_version").removeprefix("mail_version = ")
    sieve = _run(["dpkg-query", "-W", "-f", "${Version}", "dovecot-sieve"])
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": {
            "nproc": len(os.sched_getaffinity(0)),
            "ram_mib": _meminfo_mib(),
            "cpu": _cpu_model(),
            "kernel": platform.release(),
            "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
        },
        "versions": {
            "dovecot": _tool("dovecot", "--version"),
            "dovecot-sieve (deb)": sieve,
            "postfix": postfix,
            "python": platform.python_version(),
            "imapclient": _package("imapclient"),
            "lingua": _package("lingua-language-detector"),
            "responder": f"{_package('responder')} (git {_git()})",
        },
    }


def header_lines(info: dict[str, object]) -> list[str]:
    machine = info["machine"]
    versions = info["versions"]
    assert isinstance(machine, dict) and isinstance(versions, dict)
    return [
        f"date     {info['date']}",
        f"machine  {machine['nproc']} CPUs ({machine['cpu']}), {machine['ram_mib']} MiB RAM, "
        f"Linux {machine['kernel']}, load average at start {' '.join(machine['loadavg_at_start'])}",
        "versions " + ", ".join(f"{k} {v}" for k, v in versions.items()),
    ]

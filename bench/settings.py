"""The sizes of a run (the issue's, or `--quick`) and what every scenario needs to know."""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Sizes:
    seq_senders: int = 200  # scenario 1: one mail per sender, one at a time
    burst_mails: int = 500  # scenario 2
    burst_senders: int = 100
    backlog: int = 10_000  # scenario 3 (and the large figure of scenario 4)
    backlog_small: int = 1_000  # scenario 4's small backlog
    idle_seconds: float = 60.0  # scenario 4: CPU while idling in IDLE
    pipeline_rounds: int = 20  # scenario 5: passes over the .eml corpus
    burst_repeats: int = 3  # scenario 2: alternating responder/vacation runs; medians compared
    keyword_history: int = 20_000  # scenario 6: past conversations' keywords in the mailbox
    keyword_backlog: int = 1_000  # scenario 6: messages drained per setting

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FULL = Sizes()
QUICK = Sizes(
    seq_senders=20,
    burst_mails=100,
    burst_senders=20,
    backlog=500,
    backlog_small=100,
    idle_seconds=10.0,
    pipeline_rounds=3,
    burst_repeats=1,
    keyword_history=2_000,
    keyword_backlog=200,
)


@dataclass
class Run:
    """One `python -m bench` invocation."""

    workdir: Path  # stacks and service state (temporary)
    out_dir: Path  # profiles
    sizes: Sizes
    seed: int = 6
    profile: bool = False  # attach py-spy to the service (figures then include its overhead)
    started: float = field(default_factory=time.perf_counter)
    shared: dict[str, Any] = field(default_factory=dict)  # results one scenario reuses

    def say(self, message: str) -> None:
        """Progress on stderr (the tables go to stdout)."""
        elapsed = time.perf_counter() - self.started
        print(f"[{elapsed:6.1f} s] {message}", file=sys.stderr, flush=True)

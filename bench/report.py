"""Tables for people, JSON for machines, and the verdict on each of the issue's targets.

Every scenario returns a `Section`: its figures as table rows, one sentence per figure saying
what it includes (detection method, what starts and stops the clock), the targets it checks,
and the raw data for the JSON file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Target:
    name: str
    goal: str  # e.g. "<= 650 ms"
    measured: str
    met: bool | None  # None: could not be measured in this run


@dataclass
class Section:
    key: str
    title: str
    notes: list[str] = field(default_factory=list)  # what the figures include, detection, caveats
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def render(self) -> str:
        lines = ["", f"== {self.title} =="]
        lines += [f"   {note}" for note in self.notes]
        if self.rows:
            lines.append("")
            lines += ["   " + line for line in table(self.columns, self.rows)]
        if self.targets:
            lines.append("")
            lines += ["   " + line for line in target_lines(self.targets)]
        return "\n".join(lines)


def table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Figures right-aligned; the first column and a "note" column left-aligned."""
    widths = [max(len(str(r[i])) for r in [columns, *rows]) for i in range(len(columns))]
    left = {0} | {i for i, name in enumerate(columns) if name == "note"}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i in left else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(columns), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def target_lines(targets: Sequence[Target]) -> list[str]:
    out = []
    for t in targets:
        verdict = "MET" if t.met else "not measured" if t.met is None else "NOT MET"
        out.append(f"target: {t.name} {t.goal}: measured {t.measured} -> {verdict}")
    return out


def ms(value: float | int | None) -> str:
    return "-" if value is None else f"{value:,.1f} ms"


def num(value: float | int | None, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "-"
    text = f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"
    return f"{text} {unit}".rstrip()


def write_json(path: Path, header: dict[str, Any], sections: Sequence[Section]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        **header,
        "scenarios": {
            s.key: {
                "title": s.title,
                "notes": s.notes,
                **s.data,
                "targets": [asdict(t) for t in s.targets],
            }
            for s in sections
        },
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")


def summary_lines(sections: Sequence[Section]) -> list[str]:
    targets = [t for s in sections for t in s.targets]
    if not targets:
        return []
    met = sum(1 for t in targets if t.met)
    lines = ["", f"== Targets: {met} of {len(targets)} met =="]
    return lines + ["   " + line for line in target_lines(targets)]

"""The linter's state and what it checks in rendered text (see responder/lint/run.py).

`LinterBase` keeps the problems found (one per file, line and rule), the
template sources and their parse trees, and reads what a customer would
receive: deflecting sentences (mapped back to the line that wrote them), raw
placeholders, the subject line, and the Identify–Apologize–Assist elements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import nodes

from responder.lint.allow import Allow, read_allows
from responder.lint.phrases import PhraseBook, lint_fold, split_sentences
from responder.lint.reader import Deflection
from responder.lint.rendering import (
    EMPTY_QUOTES,
    EMPTY_QUOTES_SOURCE,
    PLACEHOLDER,
    SAMPLE_REFERENCE,
    SAMPLE_SUBJECT,
    Issue,
    references,
    render_issue,
    sample,
    static_issues,
)
from responder.lint.source import clean_source, closest_line, html_text, line_of, locate, shown
from responder.pipeline.render import TemplateSet

MISSING = {
    "apology": "no apology: say sorry, simply and without justifying",
    "time": "no promised time: use {{ response_time }} or {{ respond_by }}",
    "reference": "no reference the customer can quote: use {{ reference }}",
    "subject": "the customer's subject is never restated: use {{ subject }}",
    "senior": "priority mail and updates must say that a senior person has it",
}


@dataclass(frozen=True, order=True)
class Problem:
    """One finding: `path:line: rule: text`; a deflection also says why and how to fix it."""

    path: Path
    line: int
    rule: str
    text: str
    severity: str = field(default="error", compare=False)
    why: Deflection | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.text}"

    def explained(self) -> str:
        """The finding and, for a deflection, a second line: severity, topic, move, hint."""
        if self.why is None:
            return str(self)
        return f"{self}\n    {self.severity}: {self.why.why()}; hint: {self.why.hint}"

    def as_json(self) -> dict[str, object]:
        why = self.why
        return {
            "file": str(self.path),
            "line": self.line,
            "rule": self.rule,
            "severity": self.severity,
            "topic": why.topic if why else None,
            "move": why.move if why else None,
            "words": list(why.words) if why else [],
            "hint": why.hint if why else None,
            "model": verdict.why() if (verdict := getattr(why, "verdict", None)) else None,
            "text": self.text,
        }


class LinterBase:
    def __init__(
        self, directory: Path, queues: tuple[str, ...], default: str, phrases: Path
    ) -> None:
        self.directory = directory
        self.queues = queues
        self.default = default
        self.phrases = phrases
        self.templates = TemplateSet(directory, default)
        self.environment = self.templates.environment
        self.found: dict[tuple[Path, int, str], Problem] = {}
        self.exists = (
            {p.relative_to(directory).as_posix() for p in directory.rglob("*.j2") if p.is_file()}
            if directory.is_dir()
            else set()
        )
        self._sources: dict[str, str] = {}
        self._trees: dict[str, nodes.Template | None] = {}
        self._folded: dict[str, str] = {}
        self._read: set[tuple[str, str]] = set()  # (template, sentence) already read
        self._allows: dict[Path, list[Allow]] = {}
        self.allowed: dict[tuple[Path, int, str], tuple[Problem, Allow]] = {}

    def add(
        self, path: Path, line: int, rule: str, text: str, why: Deflection | None = None
    ) -> None:
        problem = Problem(path, line, rule, text, why.severity if why else "error", why)
        allow = next((a for a in self.allows(path) if (a.line, a.rule) == (line, rule)), None)
        if allow is not None:
            self.allowed.setdefault((path, line, rule), (problem, allow))
            return
        old = self.found.get((path, line, rule))
        if old is None or (old.severity == "warning" and problem.severity == "error"):
            self.found[(path, line, rule)] = problem

    def allows(self, path: Path) -> list[Allow]:
        """The file's allow comments; one without a reason is itself an error."""
        if path not in self._allows:
            self._allows[path] = []
            if path.suffix == ".j2" and path.is_file():
                allows, bad = read_allows(path.read_text(encoding="utf-8", errors="replace"))
                self._allows[path] = allows
                for item in bad:
                    self.add(path, item.line, "lint-allow", item.text)
        return self._allows[path]

    def path_for(self, where: str) -> Path:
        if where in self.exists:
            return self.directory / where
        try:
            return self.directory / Path(where).resolve().relative_to(self.directory.resolve())
        except ValueError:
            return Path(where)

    def issue(self, issue: Issue) -> None:
        self.add(self.path_for(issue.where), issue.line, issue.rule, issue.text)

    def source(self, name: str) -> str:
        if name not in self._sources:
            self._sources[name] = (self.directory / name).read_text(
                encoding="utf-8", errors="replace"
            )
        return self._sources[name]

    def family(self, name: str) -> list[str]:
        """The template and everything it extends, includes or imports, nearest first."""
        order, queue = [name], [name]
        while queue:
            tree = self._trees.get(queue.pop(0))
            for ref in references(tree) if tree is not None else ():
                if ref in self.exists and ref not in order:
                    order.append(ref)
                    queue.append(ref)
                    if ref not in self._trees:
                        self._trees[ref] = static_issues(
                            self.environment, ref, self.source(ref), self.exists
                        )[0]
        return order

    def folded(self, name: str) -> str:
        if name not in self._folded:
            text, _ = clean_source(self.source(name), name.endswith(".html.j2"))
            self._folded[name] = lint_fold(text)
        return self._folded[name]

    def find_literal(self, name: str, pattern: re.Pattern[str]) -> tuple[str, int]:
        for member in self.family(name):
            found = pattern.search(self.source(member))
            if found:
                return member, line_of(self.source(member), found.start())
        return name, 1

    def render_file(
        self,
        language: str,
        name: str,
        role: tuple[str, tuple[str, ...]],
        book: PhraseBook | None,
    ) -> None:
        """The checks on what customers would read, for every queue the template serves."""
        is_html = name.endswith(".html.j2")
        kind, queues = role
        variants = (
            [(True, False), (False, False)]
            if kind == "subject"
            else [
                (True, kind == "priority"),
                (False, kind == "priority"),
                (True, kind != "priority"),
            ]
        )
        template = self.environment.get_template(name)
        for queue in queues:
            for full, priority in variants:
                values = sample(self.templates, language, queue, full=full, priority=priority)
                try:
                    out = template.render(**values.variables)
                except Exception as exc:  # any failure of an admin's template is a finding
                    self.issue(render_issue(exc, name))
                    return
                text = html_text(out) if is_html else out
                self.read_rendered(name, text, book)
                if kind == "update":  # the late branch is read too: customers get it after downtime
                    late = template.render(**(values.variables | {"late": True}))
                    self.read_rendered(name, html_text(late) if is_html else late, book)
                if kind == "subject":
                    self.subject(name, out, full)
                elif priority == (kind == "priority"):
                    self.elements(name, kind, text, values.times, full, book)

    def read_rendered(self, name: str, text: str, book: PhraseBook | None) -> None:
        """Deflections and raw placeholders in what the customer reads, traced to their line."""
        if book is not None:
            for _, sentence in split_sentences(text):
                if (name, sentence) in self._read:  # the same sentence in another sample
                    continue
                self._read.add((name, sentence))
                for deflection in book.read(sentence):
                    family = self.family(name)
                    hit = locate(deflection.anchor, [(m, self.folded(m)) for m in family])
                    where, line = hit or (name, closest_line(sentence, self.folded(name)))
                    self.add(
                        self.path_for(where), line, deflection.rule, shown(sentence), deflection
                    )
        for found in PLACEHOLDER.finditer(text):
            where, line = self.find_literal(name, re.compile(re.escape(found.group(0))))
            self.add(
                self.path_for(where),
                line,
                "raw-placeholder",
                f"{found.group(0)} would reach the customer as is (write {{{{ variable }}}})",
            )

    def subject(self, name: str, out: str, full: bool) -> None:
        path = self.directory / name
        if full and f"[#{SAMPLE_REFERENCE}]" not in out:
            self.add(
                path,
                1,
                "subject-reference",
                "keep [#{{ reference }}] in the subject: threading relies on it",
            )
        if "\n" in out.strip():
            self.add(path, 1, "subject-one-line", "the subject must render to a single line")
        if not full:
            self.empty_quotes(name, out)

    def missing(self, name: str, rule: str, text: str) -> None:
        """A missing element, reported once where it is missing: not again in every child."""
        if not any((self.directory / a, 1, rule) in self.found for a in self.family(name)[1:]):
            self.add(self.directory / name, 1, rule, text)

    def elements(
        self,
        name: str,
        kind: str,
        text: str,
        times: tuple[str, str],
        full: bool,
        book: PhraseBook | None,
    ) -> None:
        """Identify, Apologize, Assist: each must be in what the customer reads."""
        checks = {
            "apology": book is None or book.has("apology", text),
            "time": any(time in text for time in times),
            "reference": SAMPLE_REFERENCE in text,
            "subject": not full or lint_fold(SAMPLE_SUBJECT) in lint_fold(text),
            "senior": not full
            or kind not in ("priority", "update")
            or book is None
            or book.has("senior", text),
        }
        for element, present in checks.items():
            if not present:
                self.missing(name, f"missing/{element}", MISSING[element])
        if not full:
            self.empty_quotes(name, text)

    def empty_quotes(self, name: str, text: str) -> None:
        found = EMPTY_QUOTES.search(text)
        if found:
            where, line = self.find_literal(name, EMPTY_QUOTES_SOURCE)
            self.add(
                self.path_for(where),
                line,
                "empty-quotes",
                f"renders {found.group(0)} when the subject is empty: "
                "wrap it in {% if subject %}…{% endif %}",
            )

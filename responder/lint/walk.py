"""The linter's walk: each language, its required files and queue names, each template.

Files are read in two passes: first as written (parse, variables, sandbox,
deflection line by line), then rendered against sample data, parents before the
templates that extend them, so a problem is reported where it is written.
"""

from __future__ import annotations

import re
import tomllib

from babel import Locale, UnknownLocaleError

from responder.lint.checks import LinterBase, Problem
from responder.lint.judged import DEFAULT_MODE, JudgedBook, Veto, judged
from responder.lint.phrases import PhraseBook, PhraseListError, load_phrasebook
from responder.lint.rendering import static_issues
from responder.lint.source import scan_source

REQUIRED = ("ack", "priority", "subject")
# Optional, but once the default language has one every language needs it: a missing one
# would send that language's customers the default language's text.
OPTIONAL_IN_ALL = ("followup", "update")  # update: the honest note before a missed promise
_TOML_LINE = re.compile(r"line (\d+)")


def _render_order(name: str) -> tuple[int, str]:
    """Parents first (ack, then priority), so a problem is reported where it is written."""
    base = name.rsplit("/", 1)[-1].split(".", 1)[0]
    return {"ack": 0, "priority": 1, "followup": 1, "update": 1}.get(base, 2), name


class Linter(LinterBase):
    """Lint one template directory, language by language (see lint_templates)."""

    model_mode = DEFAULT_MODE  # the model's say (responder/lint/judged.py): off, veto, catch, both
    books: tuple[PhraseBook, ...] = ()

    def lint_language(self, language: str) -> None:
        book: PhraseBook | None = None
        try:
            book = judged(load_phrasebook(language, self.phrases), self.model_mode)
            self.books += (book,)
        except PhraseListError as exc:
            path = self.phrases / f"{language}.toml"
            self.add(path, 1, "phrase-list", str(exc).removeprefix(f"{path}: "))
        try:
            Locale.parse(language)
        except (UnknownLocaleError, ValueError, LookupError):
            self.add(
                self.directory / language, 1, "unknown-locale", f"Babel has no locale {language!r}"
            )
        if not (self.directory / language).is_dir():
            self.add(
                self.directory / language / "ack.txt.j2",
                1,
                "missing-template",
                f"no templates for language {language!r} (copy {self.default}/ and write them)",
            )
            return
        wanted = [
            *REQUIRED,
            *(b for b in OPTIONAL_IN_ALL if f"{self.default}/{b}.txt.j2" in self.exists),
        ]
        for base in wanted:
            if f"{language}/{base}.txt.j2" not in self.exists:
                self.add(
                    self.directory / language / f"{base}.txt.j2",
                    1,
                    "missing-template",
                    f"{language} has no {base} template (customers would get another language's)",
                )
        self.queue_names(language)
        names = sorted((n for n in self.exists if n.startswith(f"{language}/")), key=_render_order)
        roles = {name: self.read_file(language, name, book) for name in names}
        for name, role in roles.items():
            if role is not None and self._trees.get(name) is not None:
                self.render_file(language, name, role, book)

    def vetoes(self) -> list[Veto]:
        """Rule findings the model dropped, for `lint --explain`."""
        return [v for b in self.books if isinstance(b, JudgedBook) for v in b.vetoes.values()]

    def unused_allows(self) -> None:
        """An allow comment that accepts nothing is stale: a warning, so it gets removed."""
        used = {
            (path, allow.comment_line, allow.rule)
            for (path, _, _), (_, allow) in self.allowed.items()
        }
        for path, allows in list(self._allows.items()):
            for allow in allows:
                if (path, allow.comment_line, allow.rule) not in used:
                    self.found.setdefault(
                        (path, allow.comment_line, "lint-allow"),
                        Problem(
                            path,
                            allow.comment_line,
                            "lint-allow",
                            f"allow {allow.rule} accepts nothing here any more; remove it",
                            "warning",
                        ),
                    )

    def queue_names(self, language: str) -> None:
        path = self.directory / language / "queues.toml"
        try:
            with path.open("rb") as handle:
                names = tomllib.load(handle)
        except FileNotFoundError:
            names = {}
        except tomllib.TOMLDecodeError as exc:
            line = _TOML_LINE.search(str(exc))
            self.add(path, int(line.group(1)) if line else 1, "syntax", str(exc))
            return
        missing = [q for q in self.queues if not str(names.get(q, "")).strip()]
        if missing:
            wanted = ", ".join(f'{q} = "…"' for q in missing)
            self.add(path, 1, "missing-queue-name", f"no customer-facing name (write {wanted})")

    def role(self, language: str, name: str) -> tuple[str, tuple[str, ...]] | None:
        """What the renderer uses a file for, and for which queues; None for pieces and strays."""
        rel = name[len(language) + 1 :]
        if "/" in rel or rel.startswith("_"):
            return None  # a shared piece, used through include/extends
        kind = next((k for k in (".txt.j2", ".html.j2") if rel.endswith(k)), None)
        base = rel[: -len(kind)] if kind else rel
        path = self.directory / name
        if kind is None:
            self.add(
                path, 1, "unknown-template", "never used: template names end in .txt.j2 or .html.j2"
            )
        elif kind == ".html.j2" and f"{language}/{base}.txt.j2" not in self.exists:
            self.add(
                path,
                1,
                "unknown-template",
                f"never used: an HTML alternative needs {base}.txt.j2 beside it",
            )
        elif base == "subject":
            return ("subject", self.queues) if kind == ".txt.j2" else None
        elif base in ("ack", "priority", "followup", "update"):
            return base, self.queues
        elif base in self.queues:
            return "queue", (base,)
        else:
            self.add(
                path,
                1,
                "unknown-template",
                f"never used: {base!r} is not ack, priority, followup, update, subject or a queue "
                f"({', '.join(self.queues)}); name a shared piece _{base}{kind}",
            )
        return None

    def read_file(
        self, language: str, name: str, book: PhraseBook | None
    ) -> tuple[str, tuple[str, ...]] | None:
        """The checks on the file as written: parse, variables, sandbox, deflection per line."""
        source = self.source(name)
        self.allows(self.directory / name)  # an allow without a reason is an error even here
        tree, issues = static_issues(self.environment, name, source, self.exists)
        self._trees[name] = tree
        for issue in issues:
            self.issue(issue)
        if book is not None:
            for finding in scan_source(source, book, name.endswith(".html.j2")):
                self.add(
                    self.directory / name, finding.line, finding.rule, finding.text, finding.why
                )
        return self.role(language, name)

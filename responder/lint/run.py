"""`responder lint`: every template, every language, checked before a customer sees it.

Three kinds of finding, each printed as `path:line: rule: offending text`:

- deflection (`deflection/<topic>`): a sentence that hides behind a policy, the
  contract, a website, a third party or "management", or tells the customer they
  are wrong — a topic AND a move, or a move that deflects alone (responder/lint/reader.py).
  A second line says why: severity, topic, move, the words, and a rewrite hint.
  Cue lists are data (config/lint/<lang>.toml); sentences are read both in the
  source (mapped to its line) and in the rendered text. `{# lint: allow
  deflection/<topic> — reason #}` accepts one sentence (`lint-allow` if the reason
  is missing); `--explain` lists what was accepted and why, `--json` prints one
  object per finding. Only `error` findings fail `lint`, `check` and `run`;
- a missing element (`missing/apology`, `missing/subject`, `missing/time`,
  `missing/reference`; `missing/senior` for priority mail), read in the rendered
  text of each body template;
- a broken template: `syntax`, `undefined`, `sandbox`, `render-error`,
  `missing-template`, `missing-queue-name`, `unknown-template`, `raw-placeholder`,
  `empty-quotes`, `subject-reference`, `subject-one-line`, `phrase-list`, `unknown-locale`.

See templates/README.md ("The linter") for each rule and the measured precision and recall.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from responder.config import Config
from responder.lint.checks import Problem
from responder.lint.judged import DEFAULT_MODE
from responder.lint.phrases import PHRASE_DIR
from responder.lint.walk import Linter
from responder.pipeline.routing import load_router

__all__ = [
    "DEFAULT_QUEUES",
    "Problem",
    "configured_queues",
    "lint_templates",
    "main",
    "run_linter",
]

DEFAULT_QUEUES = ("billing", "technical", "orders", "account", "general")


def lint_templates(
    template_dir: Path,
    languages: Sequence[str],
    queues: Sequence[str],
    default_language: str,
    *,
    phrases: Path = PHRASE_DIR,
    model: str = DEFAULT_MODE,
) -> list[Problem]:
    """Every problem in the templates of these languages for these queues, sorted by place."""
    return sorted(
        run_linter(template_dir, languages, queues, default_language, phrases, model).found.values()
    )


def run_linter(
    template_dir: Path,
    languages: Sequence[str],
    queues: Sequence[str],
    default_language: str,
    phrases: Path = PHRASE_DIR,
    model: str = DEFAULT_MODE,
) -> Linter:
    """The linter after reading every language: its findings and the sentences allowed."""
    linter = Linter(Path(template_dir), tuple(queues), default_language, phrases)
    linter.model_mode = model
    for language in dict.fromkeys([*languages, default_language]):
        linter.lint_language(language)
    linter.unused_allows()
    return linter


def configured_queues(config: Config) -> tuple[str, ...]:
    """The router's queues; the five defaults while no routing file exists."""
    if not Path(config.routing.rules).is_file():
        return DEFAULT_QUEUES
    return load_router(config.routing.rules).queues


def main(
    config: Config, templates: str | None, *, as_json: bool = False, explain: bool = False
) -> int:
    """Print every finding; exit 1 when any is an error (warnings are printed, not fatal)."""
    directory = Path(templates) if templates else Path(config.reply.templates)
    queues = configured_queues(config)
    languages = config.reply.languages
    linter = run_linter(
        directory, languages, queues, config.reply.default_language, model=config.reply.lint_model
    )
    problems = sorted(linter.found.values())
    allowed = sorted(linter.allowed.values(), key=lambda item: item[0])
    errors = sum(1 for p in problems if p.severity == "error")
    if as_json:
        for problem in problems:
            print(json.dumps(problem.as_json(), ensure_ascii=False))
        for problem, allow in allowed if explain else ():
            print(json.dumps({**problem.as_json(), "allowed": allow.reason}, ensure_ascii=False))
        for veto in linter.vetoes() if explain else ():
            print(json.dumps(veto.as_json(), ensure_ascii=False))
        return 1 if errors else 0
    for problem in problems:
        print(problem.explained())
    if explain:
        for problem, allow in allowed:
            print(f"{problem.path}:{problem.line}: allowed {problem.rule}: {problem.text}")
            print(f"    reason (line {allow.comment_line}): {allow.reason}")
            if problem.why is not None:
                print(f"    would be {problem.severity}: {problem.why.why()}")
        for veto in linter.vetoes():
            print(veto)
    count = sum(1 for _ in directory.rglob("*.j2")) if directory.is_dir() else 0
    scope = f"{count} templates, {len(languages)} languages, {len(queues)} queues"
    if errors:
        print(f"responder lint: {errors} problem(s) in {directory} ({scope})")
        return 1
    warnings = len(problems)
    note = f", {warnings} warning(s)" if warnings else ""
    print(f"responder lint: {directory}: no problems{note} ({scope})")
    return 0

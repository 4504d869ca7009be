"""`responder lint`: every template, every language, checked before a customer sees it.

Three kinds of error, each printed as `path:line: rule: offending text`:

- deflection (`deflection/<category>`): a sentence hiding behind a policy, the
  contract, a website, a supplier or "management", or telling the customer they
  are wrong. Phrase lists are data (config/lint/<lang>.toml); sentences are read
  both in the source (mapped to its line) and in the rendered text;
- a missing element (`missing/apology`, `missing/subject`, `missing/time`,
  `missing/reference`; `missing/senior` for priority mail), read in the rendered
  text of each body template;
- a broken template: `syntax`, `undefined`, `sandbox`, `render-error`,
  `missing-template`, `missing-queue-name`, `unknown-template`, `raw-placeholder`,
  `empty-quotes`, `subject-reference`, `subject-one-line`, `phrase-list`, `unknown-locale`.

See templates/README.md ("The linter") for each rule and the measured precision and recall.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from responder.config import Config
from responder.lint.checks import Problem
from responder.lint.phrases import PHRASE_DIR
from responder.lint.walk import Linter
from responder.pipeline.routing import load_router

__all__ = ["DEFAULT_QUEUES", "Problem", "configured_queues", "lint_templates", "main"]

DEFAULT_QUEUES = ("billing", "technical", "orders", "account", "general")


def lint_templates(
    template_dir: Path,
    languages: Sequence[str],
    queues: Sequence[str],
    default_language: str,
    *,
    phrases: Path = PHRASE_DIR,
) -> list[Problem]:
    """Every problem in the templates of these languages for these queues, sorted by place."""
    linter = Linter(Path(template_dir), tuple(queues), default_language, phrases)
    for language in dict.fromkeys([*languages, default_language]):
        linter.lint_language(language)
    return sorted(linter.found.values())


def configured_queues(config: Config) -> tuple[str, ...]:
    """The router's queues; the five defaults while no routing file exists."""
    if not Path(config.routing.rules).is_file():
        return DEFAULT_QUEUES
    return load_router(config.routing.rules).queues


def main(config: Config, templates: str | None) -> int:
    directory = Path(templates) if templates else Path(config.reply.templates)
    queues = configured_queues(config)
    languages = config.reply.languages
    problems = lint_templates(directory, languages, queues, config.reply.default_language)
    for problem in problems:
        print(problem)
    count = sum(1 for _ in directory.rglob("*.j2")) if directory.is_dir() else 0
    scope = f"{count} templates, {len(languages)} languages, {len(queues)} queues"
    if problems:
        print(f"responder lint: {len(problems)} problem(s) in {directory} ({scope})")
        return 1
    print(f"responder lint: {directory}: no problems ({scope})")
    return 0

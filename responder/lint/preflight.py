"""Checks every command that touches real mail runs first: a broken template must never reach a customer."""

from __future__ import annotations

from pathlib import Path

from responder.config import Config
from responder.errors import TemplateError
from responder.pipeline.routing import FALLBACK_QUEUE, load_router


def template_problems(config: Config) -> list[str]:
    """Every lint error of the configured templates, one line each (warnings do not block)."""
    from responder.lint.run import lint_templates

    router = load_router(config.routing.rules)
    problems = lint_templates(
        Path(config.reply.templates),
        config.reply.languages,
        router.queues or (FALLBACK_QUEUE,),
        config.reply.default_language,
        model=config.reply.lint_model,
    )
    return [str(problem) for problem in problems if problem.severity == "error"]


def require_valid_templates(config: Config) -> None:
    problems = template_problems(config)
    if problems:
        listing = "\n  ".join(problems)
        raise TemplateError(
            f"templates fail lint ({len(problems)} problems); fix them first:\n  {listing}"
        )

"""What the linter renders and how it reads a Jinja failure: sample data, static checks, tracebacks.

Every template is rendered against sample data (with StrictUndefined, in the
sandbox) for each queue it can serve, and parsed once for what rendering cannot
see: variables and unsafe attributes in branches the samples never take.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jinja2
from babel import UnknownLocaleError
from jinja2 import meta, nodes
from jinja2 import sandbox as jinja_sandbox
from jinja2.exceptions import SecurityError

from responder.pipeline.render import (
    UPDATE_VARIABLES,
    ReplyContext,
    TemplateSet,
    localized_duration,
    localized_moment,
)

SAMPLE_NAME = "Alex Morgan"
SAMPLE_ADDRESS = "alex.morgan@example.test"
SAMPLE_SUBJECT = "Order 4417 arrived damaged"
SAMPLE_REFERENCE = "K7M2Q9XD"
SAMPLE_ORGANIZATION = "Example Support"
SAMPLE_SUPPORT = "support@example.test"
SAMPLE_PROMISE = timedelta(hours=4)
SAMPLE_NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
SAMPLE_TIMEZONE = "UTC"

VARIABLES = frozenset(
    [f.name for f in dataclasses.fields(ReplyContext) if f.name != "extra"] + list(UPDATE_VARIABLES)
)
SAMPLE_SENIOR = "Maria Keller"
_JINJA_NAMES = frozenset({"self", "super", "loop", "varargs", "kwargs", "caller"})
_UNSAFE = frozenset().union(
    jinja_sandbox.UNSAFE_FUNCTION_ATTRIBUTES,
    jinja_sandbox.UNSAFE_METHOD_ATTRIBUTES,
    jinja_sandbox.UNSAFE_GENERATOR_ATTRIBUTES,
    jinja_sandbox.UNSAFE_COROUTINE_ATTRIBUTES,
    jinja_sandbox.UNSAFE_ASYNC_GENERATOR_ATTRIBUTES,
)
# Text that only ever reaches a customer when a placeholder was not filled in.
PLACEHOLDER = re.compile(
    r"\{\{.*?\}\}|\{%.*?%\}|\{#|"
    r"\{\s*[A-Za-z_]\w*\s*\}|\$\{\s*\w+\s*\}|%\(\w+\)s|%[A-Za-z_]\w*%|\[\[\s*\w+\s*\]\]|"
    r"(?<![\w.@])(?:" + "|".join(sorted(v for v in VARIABLES if "_" in v)) + r")(?!\w)"
)
EMPTY_QUOTES = re.compile(r"\"\s*\"|“\s*”|„\s*“|«\s*»|‘\s*’|‚\s*‘|\(\s*\)")
EMPTY_QUOTES_SOURCE = re.compile(r"[\"“„«‘‚(]\s*\{\{[^}]*\bsubject\b")


@dataclass(frozen=True)
class Sample:
    """One rendering: the variables, and which values prove an element is present."""

    variables: dict[str, object]
    full: bool  # customer_name and subject filled in
    times: tuple[str, str]  # response_time, respond_by


def sample(
    templates: TemplateSet, language: str, queue: str, *, full: bool, priority: bool
) -> Sample:
    try:
        promise = localized_duration(SAMPLE_PROMISE, language)
        deadline = localized_moment(SAMPLE_NOW + SAMPLE_PROMISE, language, SAMPLE_TIMEZONE)
    except (UnknownLocaleError, ValueError, LookupError):  # Babel does not know it: reported apart
        promise, deadline = "4 hours", "2026-11-23 13:30 UTC"
    context = ReplyContext(
        customer_name=SAMPLE_NAME if full else "",
        customer_address=SAMPLE_ADDRESS,
        subject=SAMPLE_SUBJECT if full else "",
        queue=queue,
        queue_name=templates.queue_name(language, queue),
        reference=SAMPLE_REFERENCE,
        response_time=promise,
        respond_by=deadline,
        priority=priority,
        language=language,
        organization=SAMPLE_ORGANIZATION,
        support_address=SAMPLE_SUPPORT,
        extra={"senior": SAMPLE_SENIOR, "previous_respond_by": deadline, "late": False},
    )
    return Sample(context.variables(), full, (promise, deadline))


@dataclass(frozen=True)
class Issue:
    """A Jinja-level problem at a template (by loader name, or a file name) and line."""

    where: str
    line: int
    rule: str
    text: str


def _unsafe(attribute: str) -> bool:
    return attribute.startswith("_") or attribute in _UNSAFE


def static_issues(
    environment: jinja2.Environment, name: str, source: str, exists: set[str]
) -> tuple[nodes.Template | None, list[Issue]]:
    """Parse once: syntax, unknown variables, unsafe attributes, templates that do not exist."""
    try:
        tree = environment.parse(source, name=name)
    except jinja2.TemplateSyntaxError as exc:
        return None, [Issue(name, exc.lineno or 1, "syntax", exc.message or "syntax error")]
    issues: list[Issue] = []
    allowed = VARIABLES | _JINJA_NAMES | set(environment.globals)
    unknown = meta.find_undeclared_variables(tree) - allowed
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and node.name in unknown:
            unknown.discard(node.name)
            hint = difflib.get_close_matches(node.name, sorted(VARIABLES), n=1)
            advice = (
                f" (did you mean {hint[0]}?)"
                if hint
                else f" (variables: {', '.join(sorted(VARIABLES))})"
            )
            issues.append(
                Issue(
                    name,
                    node.lineno,
                    "undefined",
                    f"{node.name} is not a template variable{advice}",
                )
            )
    for attr in tree.find_all(nodes.Getattr):
        if _unsafe(attr.attr):
            issues.append(
                Issue(name, attr.lineno, "sandbox", f"access to .{attr.attr} is not allowed")
            )
    for item in tree.find_all(nodes.Getitem):
        if (
            isinstance(item.arg, nodes.Const)
            and isinstance(item.arg.value, str)
            and _unsafe(item.arg.value)
        ):
            issues.append(
                Issue(
                    name, item.lineno, "sandbox", f"access to [{item.arg.value!r}] is not allowed"
                )
            )
    for ref in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
        target = getattr(ref, "template", None)
        if (
            isinstance(target, nodes.Const)
            and isinstance(target.value, str)
            and target.value not in exists
        ):
            issues.append(
                Issue(name, ref.lineno, "missing-template", f"{target.value} does not exist")
            )
    return tree, issues


def references(tree: nodes.Template) -> Iterator[str]:
    """The templates this one extends, includes or imports (constant names only)."""
    for name in meta.find_referenced_templates(tree):
        if name is not None:
            yield name


def render_issue(exc: Exception, name: str) -> Issue:
    """Turn a rendering failure into a problem at the template line Jinja was executing."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".j2")]
    where, line = (frames[-1].filename, frames[-1].lineno or 1) if frames else (name, 1)
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return Issue(
            exc.filename or exc.name or name, exc.lineno or 1, "syntax", exc.message or str(exc)
        )
    if isinstance(exc, jinja2.TemplateNotFound):
        return Issue(where, line, "missing-template", f"{exc.name} does not exist")
    if isinstance(exc, jinja2.UndefinedError):
        return Issue(where, line, "undefined", str(exc))
    if isinstance(exc, SecurityError):
        return Issue(where, line, "sandbox", str(exc))
    return Issue(where, line, "render-error", f"{type(exc).__name__}: {exc}")

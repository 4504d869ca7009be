"""Jinja's sandbox, bounded in size and time: an admin's template cannot eat the machine.

The stock sandbox stops templates from reaching Python internals, not from asking for
`"x" * 500000000` (half a gigabyte before anything can check it) or from looping for
minutes. Here multiplication, powers, `%`-formatting widths and padding filters are
checked *before* they run, ranges are short, and rendering streams its output and stops
at MAX_OUTPUT characters or MAX_SECONDS. A template that trips a limit is a lint error
and never reaches a customer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from jinja2 import Environment
from jinja2.exceptions import SecurityError
from jinja2.filters import FILTERS
from jinja2.sandbox import SandboxedEnvironment

MAX_OUTPUT = 100_000  # characters: an acknowledgment is a few hundred
MAX_SECONDS = 2.0
MAX_RANGE = 10_000
_WIDE_FORMAT = re.compile(r"%[-+ #0]*\d{6,}|\{[^}]*:[^}]*\d{6,}[^}]*\}")


class TemplateTooBig(SecurityError):
    """The template asked for more output or time than any acknowledgment needs."""


def _check_repeat(left: Any, right: Any) -> None:
    for text, count in ((left, right), (right, left)):
        repeatable = isinstance(text, str | bytes | list | tuple) and isinstance(count, int)
        if repeatable and len(text) * max(count, 0) > MAX_OUTPUT:
            raise TemplateTooBig(f"repeats text to {len(text) * count:,} characters")


def _bounded_width(name: str) -> Callable[..., Any]:
    original = FILTERS[name]

    def bounded(value: Any, width: Any = 80, *args: Any, **kwargs: Any) -> Any:
        if isinstance(width, int) and width > MAX_OUTPUT:
            raise TemplateTooBig(f"{name}({width:,}) is wider than any acknowledgment")
        return original(value, width, *args, **kwargs)

    return bounded


class BoundedSandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("center", "indent"):
            self.filters[name] = _bounded_width(name)
        self.globals["range"] = _short_range

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
        elif operator == "**":
            if isinstance(right, int | float) and abs(right) > 64:
                raise TemplateTooBig(f"power {right} is too large")
        elif operator == "%" and isinstance(left, str) and _WIDE_FORMAT.search(left):
            raise TemplateTooBig("format width too large")
        return super().call_binop(context, operator, left, right)

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(__obj, "__name__", "") in ("format", "ljust", "rjust", "center", "zfill"):
            for value in (*args, *kwargs.values()):
                if isinstance(value, int) and value > MAX_OUTPUT:
                    raise TemplateTooBig(f"{__obj.__name__}({value:,}) is too wide")
                if isinstance(value, str) and _WIDE_FORMAT.search(value):
                    raise TemplateTooBig("format width too large")
        return super().call(__context, __obj, *args, **kwargs)


def _short_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise TemplateTooBig(f"range of {len(numbers):,} items (at most {MAX_RANGE:,})")
    return numbers


def bounded_render(chunks: Iterable[str], clock: Callable[[], float] = time.monotonic) -> str:
    """Join a template's output stream, stopping at MAX_OUTPUT characters or MAX_SECONDS."""
    started = clock()
    parts: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise TemplateTooBig(f"renders more than {MAX_OUTPUT:,} characters")
        if clock() - started > MAX_SECONDS:
            raise TemplateTooBig(f"takes longer than {MAX_SECONDS:g} s to render")
        parts.append(chunk)
    return "".join(parts)


__all__ = ["MAX_OUTPUT", "BoundedSandbox", "Environment", "TemplateTooBig", "bounded_render"]

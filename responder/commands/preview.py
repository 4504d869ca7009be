"""`responder preview`: the acknowledgment exactly as the customer would read it."""

from __future__ import annotations

from pathlib import Path

from responder.config import Config
from responder.errors import ResponderError
from responder.pipeline.decide import Pipeline

SHOWN_HEADERS = ("From", "To", "Subject", "Date", "Content-Language")


def preview(
    config: Config, path: Path, *, language: str | None = None, queue: str | None = None
) -> int:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ResponderError(f"cannot read {path}: {exc.strerror}") from None
    if language and language not in config.reply.languages:
        raise ResponderError(f"--lang {language}: not one of {', '.join(config.reply.languages)}")
    decision = Pipeline(config).decide(raw, force_language=language, force_queue=queue)
    print(
        f"# queue: {decision.queue}{' (priority)' if decision.priority else ''}, "
        f"language: {decision.language}, reference: {decision.reference}"
    )
    if decision.reply is None:
        print(f"# no acknowledgment would be sent: {decision.reason}")
        return 0
    for name in SHOWN_HEADERS:
        print(f"{name}: {decision.reply.headers[name]}")
    print()
    print(decision.reply.body.rstrip())
    if decision.reply.html is not None:
        print("\n# (an HTML alternative is attached too)")
    return 0

"""Property-based: parse → guard → route → render on generated and mutated mail never breaks.

Whatever arrives (random headers and encodings, header injection attempts, broken MIME
trees, real fixtures with bytes flipped, cut or repeated), deciding it raises nothing,
takes bounded time, and an acknowledgment — if there is one — has exactly one recipient
and no raw CR or LF inside any header.
"""

from __future__ import annotations

import email
import email.policy
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from responder import config as config_module
from responder.pipeline.decide import Decision, Pipeline

FIXTURES = sorted((Path(__file__).parent / "fixtures").rglob("*.eml"))
PIPELINE = Pipeline(config_module.load(None, {}))
MAX_SECONDS = 1.0
SETTINGS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,  # CI must not be a lottery; a failure reproduces exactly
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

HEADER_NAMES = [
    "From", "To", "Cc", "Reply-To", "Subject", "Message-ID", "In-Reply-To", "References",
    "Date", "Content-Type", "Content-Transfer-Encoding", "MIME-Version", "Auto-Submitted",
    "Precedence", "List-Id", "Return-Path", "X-Auto-Response-Suppress", "Sender", "X-Loop",
    "Authentication-Results",
]  # fmt: skip
nasty_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300
) | st.sampled_from(
    [
        "=?utf-8?b?SGVsbG8gV29ybGQ=?=",
        "=?iso-8859-1?q?caf=E9?=",
        "=?unknown-charset?q?x?=",
        "a@b.example\r\nBcc: victim@example.org",
        "Alex <alex@customer.example>, Bo <bo@customer.example>",
        '"Mallory\r\nX-Injected: 1" <m@evil.example>',
        "<>",
        "multipart/mixed; boundary=",
        "text/plain; charset=x-nonsense",
        "\x00\x01\x7f",
        "Re: " * 200,
    ]
)


@st.composite
def generated_mail(draw: st.DrawFn) -> bytes:
    lines = [
        f"{draw(st.sampled_from(HEADER_NAMES))}: {draw(nasty_text)}"
        for _ in range(draw(st.integers(0, 12)))
    ]
    if draw(st.booleans()):
        lines.insert(0, f"From: {draw(nasty_text)} <c{draw(st.integers(0, 99))}@customer.example>")
    head = "\r\n".join(
        line.replace("\n", draw(st.sampled_from(["\n", "\r\n", " "]))) for line in lines
    )
    body = draw(st.binary(max_size=2000)) if draw(st.booleans()) else draw(nasty_text).encode()
    if draw(st.booleans()):
        boundary = draw(st.sampled_from(["b1", "", "==x==", "b1 b2"]))
        parts = [
            f"--{boundary}\r\nContent-Type: {draw(st.sampled_from(['text/plain', 'text/html', 'message/rfc822', 'multipart/alternative; boundary=b1', 'application/octet-stream']))}\r\n\r\n{draw(nasty_text)}\r\n"
            for _ in range(draw(st.integers(0, 6)))
        ]
        body = (
            f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n" + "".join(parts)
        ).encode("utf-8", "surrogateescape") + body
    return head.encode("utf-8", "surrogateescape") + b"\r\n\r\n" + body


@st.composite
def mutated_fixture(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(FIXTURES)).read_bytes())
    for _ in range(draw(st.integers(1, 8))):
        if not raw:
            break
        at = draw(st.integers(0, len(raw) - 1))
        action = draw(st.sampled_from(["flip", "cut", "crlf", "repeat", "nul", "colon"]))
        if action == "flip":
            raw[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del raw[at : at + draw(st.integers(1, 200))]
        elif action == "crlf":
            raw[at:at] = b"\r\n"
        elif action == "repeat":
            raw[at:at] = raw[at : at + 100] * draw(st.integers(1, 30))
        elif action == "nul":
            raw[at:at] = b"\x00"
        else:
            raw[at:at] = b": "
    return bytes(raw)


def _check(raw: bytes) -> Decision:
    started = time.monotonic()
    decision = PIPELINE.decide(raw)
    assert time.monotonic() - started < MAX_SECONDS
    reply = decision.reply
    if reply is not None:
        for name, value in reply.headers.items():
            assert "\r" not in value and "\n" not in value, (name, value)
        wire = email.message_from_bytes(reply.as_bytes(), policy=email.policy.default)
        recipients = wire.get_all("To", [])
        assert len(recipients) == 1 and len(wire["To"].addresses) == 1, recipients
        assert not wire.get_all("Cc") and not wire.get_all("Bcc")
        assert wire["To"].addresses[0].addr_spec == reply.to
    return decision


@SETTINGS
@given(generated_mail())
def test_generated_mail_never_breaks_the_pipeline(raw: bytes) -> None:
    _check(raw)


@SETTINGS
@given(mutated_fixture())
def test_mutated_real_mail_never_breaks_the_pipeline(raw: bytes) -> None:
    _check(raw)


@SETTINGS
@given(st.binary(max_size=5000))
def test_random_bytes_never_break_the_pipeline(raw: bytes) -> None:
    _check(raw)


def test_the_generators_do_produce_acknowledgments() -> None:
    """A property over mail that is always refused would prove little about replies."""
    replies = sum(
        1 for raw in (p.read_bytes() for p in FIXTURES[:40]) if _check(raw).reply is not None
    )
    assert replies >= 10

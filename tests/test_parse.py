"""Parse must survive hostile input without exception, in bounded time, and read headers right."""

import base64
import time
from pathlib import Path

import pytest

from responder.pipeline.parse import parse


def _timed(raw: bytes) -> tuple[object, float]:
    start = time.perf_counter()
    message = parse(raw)
    return message, time.perf_counter() - start


def test_display_name_that_looks_like_an_address_is_not_trusted() -> None:
    message = parse(b'From: "ceo@bank.example" <mallory@evil.example>\r\nSubject: x\r\n\r\nhi\r\n')
    assert [a.address for a in message.senders] == ["mallory@evil.example"]
    assert message.senders[0].name == "ceo@bank.example"


def test_reply_to_wins_as_reply_target() -> None:
    raw = b"From: Ana <ana@example.com>\r\nReply-To: Ana Work <ana@work.example>\r\n\r\nhi\r\n"
    assert [a.address for a in parse(raw).reply_target] == ["ana@work.example"]


def test_rfc2047_subject_in_several_charsets_is_decoded_to_one_line() -> None:
    raw = (
        b"From: a@example.com\r\n"
        b"Subject: =?iso-8859-1?q?Factura_incorrecta_se=F1or?=\r\n"
        b" =?utf-8?b?IOKAkyDRgdGH0LXRgg==?=\r\n\r\nbody\r\n"
    )
    assert parse(raw).subject == "Factura incorrecta señor – счет"


def test_subject_with_encoded_crlf_cannot_inject_headers() -> None:
    raw = b"From: a@example.com\r\nSubject: =?utf-8?q?hello=0D=0ABcc:_victim@example.org?=\r\n\r\nx\r\n"
    subject = parse(raw).subject
    assert "\r" not in subject and "\n" not in subject
    assert subject == "hello Bcc: victim@example.org"


def test_unknown_charset_does_not_raise() -> None:
    raw = (
        b"From: a@example.com\r\nSubject: =?x-klingon?q?Qapla=E9?=\r\n"
        b"Content-Type: text/plain; charset=x-klingon\r\n\r\nnuqneH \xe9\xff\r\n"
    )
    message = parse(raw)
    assert "Qapla" in message.subject
    assert "nuqneH" in message.new_text


def test_nul_bytes_are_dropped() -> None:
    message = parse(b"From: a@example.com\r\nSubject: nu\x00ll\r\n\r\nbo\x00dy\r\n")
    assert message.subject == "null"
    assert message.new_text == "body"


def test_100kb_header_line_parses_quickly() -> None:
    raw = b"From: a@example.com\r\nSubject: " + b"A" * 100_000 + b"\r\nX-Long: " + b"b " * 60_000
    raw += b"\r\n\r\nbody\r\n"
    message, seconds = _timed(raw)
    assert message.senders[0].address == "a@example.com"  # type: ignore[attr-defined]
    assert seconds < 1.0


def test_50_level_nesting_parses_and_finds_the_text() -> None:
    depth = 50
    raw = b"From: a@example.com\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
    for level in range(depth):
        raw += f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'.encode()
    raw += b"Content-Type: text/plain\r\n\r\ndeep text\r\n"
    for level in reversed(range(depth)):
        raw += f"--b{level}--\r\n".encode()
    message, seconds = _timed(raw)
    assert message.new_text == "deep text"  # type: ignore[attr-defined]
    assert seconds < 1.0


def test_5000_level_nesting_is_bounded() -> None:
    raw = b"From: a@example.com\r\nMIME-Version: 1.0\r\n"
    for level in range(5000):
        raw += f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'.encode()
    message, seconds = _timed(raw)
    assert seconds < 5.0
    assert message.senders  # type: ignore[attr-defined]


def test_multi_megabyte_attachment_is_bounded() -> None:
    blob = base64.encodebytes(b"\x89PNG" + bytes(range(256)) * 40_000)  # ~14 MB encoded
    raw = (
        b"From: a@example.com\r\nSubject: photo\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\n'
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nsee attached\r\n--x\r\n"
        b'Content-Type: image/png\r\nContent-Disposition: attachment; filename="a.png"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + blob + b"\r\n--x--\r\n"
    )
    message, seconds = _timed(raw)
    assert message.new_text == "see attached"  # type: ignore[attr-defined]
    assert "truncated" in message.defects  # type: ignore[attr-defined]
    assert seconds < 2.0


def test_broken_mime_without_boundary_is_tolerated() -> None:
    raw = b"From: a@example.com\r\nContent-Type: multipart/mixed\r\n\r\njust text, no parts\r\n"
    message = parse(raw)
    assert message.senders[0].address == "a@example.com"


def test_garbage_bytes_do_not_raise() -> None:
    import random

    generator = random.Random(7)
    for _ in range(200):
        raw = bytes(generator.getrandbits(8) for _ in range(generator.randint(0, 2000)))
        parse(raw)
        parse(
            b"From: a@example.com\r\nContent-Type: multipart/alternative; boundary=q\r\n\r\n" + raw
        )


def test_html_only_body_becomes_text_without_quotes() -> None:
    raw = (
        b"From: a@example.com\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><head><style>p{}</style></head><body><p>Mi pedido no llega</p>"
        b'<div class="gmail_quote">El lun escribi\xc3\xb3: factura vieja</div></body></html>'
    )
    assert parse(raw).new_text == "Mi pedido no llega"


@pytest.mark.parametrize(
    "header",
    [
        "On Mon, 3 Jun 2024 at 10:00, Support <support@example.test> wrote:",
        "El lun, 3 jun 2024 a las 10:00, Soporte (<support@example.test>) escribió:",
        "Op ma 3 jun. 2024 om 10:00 schreef Support <support@example.test>:",
        "Am Mo., 3. Juni 2024 um 10:00 Uhr schrieb Support <support@example.test>:",
        "Le lun. 3 juin 2024 à 10:00, Support <support@example.test> a écrit :",
        "Em seg., 3 de jun. de 2024 às 10:00, Support <support@example.test> escreveu:",
        "-----Original Message-----",
    ],
)
def test_quoted_history_is_set_aside(header: str) -> None:
    raw = f"From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nNew words.\r\n\r\n{header}\r\n> old invoice text\r\nmore old\r\n"
    assert parse(raw.encode()).new_text == "New words."


def test_signature_is_set_aside() -> None:
    raw = b"From: a@example.com\r\n\r\nMy parcel is late.\r\n-- \r\nAna\r\nBilling Dept, Invoice Corp\r\n"
    assert parse(raw).new_text == "My parcel is late."


def test_missing_message_id_keys_by_content_hash() -> None:
    first = parse(b"From: a@example.com\r\n\r\none\r\n")
    second = parse(b"From: a@example.com\r\n\r\ntwo\r\n")
    assert first.message_id is None
    assert first.key.startswith("sha256:") and first.key != second.key


def test_threading_headers() -> None:
    raw = b"From: a@example.com\r\nMessage-ID: <m3@x>\r\nIn-Reply-To: <m2@x>\r\nReferences: <m1@x>\r\n <m2@x>\r\n\r\nx"
    message = parse(raw)
    assert message.message_id == "<m3@x>"
    assert message.in_reply_to == ("<m2@x>",)
    assert message.references == ("<m1@x>", "<m2@x>")


def test_multipart_with_an_unfolded_boundary_line_is_split_by_its_delimiters() -> None:
    """`boundary=` on a line of its own: the stdlib keeps the body as one string; the
    customer's text (8-bit, as received) must still be found."""
    raw = (Path(__file__).parent / "fixtures/route/pt_orders_unfolded_boundary.eml").read_bytes()
    message = parse(raw)
    assert "boundary-recovered" in message.defects
    assert message.new_text.startswith("Olá, a minha encomenda 5512 chegou partida.")
    assert message.content_types[-2:] == ("text/plain", "text/html")


def test_a_multipart_without_delimiter_lines_is_left_alone() -> None:
    raw = b"From: a@example.org\r\nContent-Type: multipart/mixed\r\n\r\njust text, no parts\r\n"
    message = parse(raw)
    assert "boundary-recovered" not in message.defects

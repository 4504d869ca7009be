"""How the IMAP edge names what went wrong: transient, permanent, or a refused command.

Also the TLS context both edges use. Kept apart from `imap.py` so the edge itself reads as
a list of IMAP verbs.
"""

from __future__ import annotations

import imaplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

from imapclient import exceptions as imap_errors

from responder.config import ServerConfig
from responder.errors import CommandRefused, PermanentError, TransientError

# RFC 5530 response codes that say "not now" rather than "not this": worth a retry.
_TRY_AGAIN_CODES = ("[UNAVAILABLE]", "[INUSE]", "[LIMIT]")


def tls_context(server: ServerConfig) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=server.ca_file or None)
    if not server.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


@contextmanager
def translated_errors(endpoint: str, action: str) -> Iterator[None]:
    """Turn library and socket errors into our two kinds, each naming where and what."""
    try:
        yield
    except imap_errors.LoginError as exc:
        raise PermanentError(f"IMAP {endpoint}: login failed: {_text(exc)}") from None
    except ssl.SSLCertVerificationError as exc:
        raise PermanentError(
            f"IMAP {endpoint}: TLS certificate not trusted: {exc.verify_message}"
        ) from None
    except (imap_errors.CapabilityError, imap_errors.IllegalStateError) as exc:
        raise PermanentError(f"IMAP {endpoint}: {action}: {_text(exc)}") from None
    except (OSError, imaplib.IMAP4.abort, imap_errors.IMAPClientAbortError) as exc:
        raise TransientError(
            f"IMAP {endpoint}: {action}: {_text(exc) or type(exc).__name__}"
        ) from None
    except imap_errors.IMAPClientError as exc:
        text = _text(exc)
        if any(code in text.upper() for code in _TRY_AGAIN_CODES):
            raise TransientError(f"IMAP {endpoint}: {action}: {text}") from None
        raise CommandRefused(f"IMAP {endpoint}: {action}: refused: {text}") from None


def _text(exc: BaseException) -> str:
    text = str(exc)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return text

"""Password logins that also carry non-ASCII user names and passwords.

IMAP LOGIN and smtplib's AUTH send ASCII only, so a password such as "Grüße-2026" fails
with an encoding error before the server sees it. SASL PLAIN is defined on UTF-8
(RFC 4616), so such credentials go through AUTHENTICATE PLAIN / AUTH PLAIN instead; ASCII
credentials keep the plain LOGIN every server supports.
"""

from __future__ import annotations

import base64
import smtplib

from imapclient import IMAPClient

from responder.errors import PermanentError


def imap_password_login(client: IMAPClient, username: str, password: str, endpoint: str) -> None:
    if username.isascii() and password.isascii():
        client.login(username, password)
        return
    if b"AUTH=PLAIN" not in client.capabilities():
        raise PermanentError(
            f"IMAP {endpoint}: the user name or password has non-ASCII characters, which "
            "LOGIN cannot carry, and the server does not offer AUTH=PLAIN"
        )
    client.plain_login(username, password)


def smtp_password_login(session: smtplib.SMTP, username: str, password: str, endpoint: str) -> None:
    if username.isascii() and password.isascii():
        session.login(username, password)
        return
    session.ehlo_or_helo_if_needed()
    offered = session.esmtp_features.get("auth", "").upper().split()
    if "PLAIN" not in offered:
        raise PermanentError(
            f"SMTP {endpoint}: the user name or password has non-ASCII characters, which "
            f"only AUTH PLAIN carries, and the server offers {' '.join(offered) or 'no AUTH'}"
        )
    blob = base64.b64encode(f"\0{username}\0{password}".encode()).decode("ascii")
    code, reply = session.docmd("AUTH", "PLAIN " + blob)
    if code == 334:  # a server that wants the response after an empty challenge
        code, reply = session.docmd(blob)
    if code not in (235, 503):  # 503: already authenticated
        raise smtplib.SMTPAuthenticationError(code, reply)

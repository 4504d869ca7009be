"""Google Workspace tokens with google-auth (extra `responder[google]`).

A service account with domain-wide delegation acts as the mailbox (`with_subject`), scope
https://mail.google.com/. No refresh token is stored: each token is a signed JWT exchanged at
Google's token endpoint, so nothing expires after 7 days the way a "Testing" app's grant does.
`session` lets tests send the exchange to a local identity provider.
"""

from __future__ import annotations

import json
import time
from datetime import UTC
from typing import Any

from responder.config import GoogleConfig
from responder.errors import PermanentError
from responder.service.auth.permanent import classify
from responder.service.auth.secrets import credential_path, read_credential
from responder.service.auth.tokens import Token, TokenError

SCOPES = ("https://mail.google.com/",)


class GoogleSource:
    def __init__(self, config: GoogleConfig, subject: str, session: Any = None) -> None:
        from google.oauth2 import service_account

        self.config = config
        self.subject = subject
        self.description = f"google service account for {subject}"
        self.key_path = credential_path(config.service_account_file)
        self._mtime = self._key_mtime()
        try:
            info = json.loads(read_credential(config.service_account_file, "google"))
            base = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)  # type: ignore[no-untyped-call]
        except (ValueError, KeyError) as exc:
            raise PermanentError(
                f"google.service_account_file: not a service account key: {exc}"
            ) from None
        self.credentials = base.with_subject(subject)
        self.session = session

    def fetch(self) -> Token:
        import google.auth.exceptions
        from google.auth.transport.requests import Request

        issued = time.time()
        try:
            self.credentials.refresh(Request(self.session) if self.session else Request())
        except google.auth.exceptions.RefreshError as exc:
            text = str(exc.args[0] if exc.args else exc)
            permanent, _ = classify(text)
            raise TokenError(f"google: {text[:200]}", permanent) from None
        except google.auth.exceptions.TransportError as exc:
            raise TokenError(f"google: {str(exc)[:200]}") from None
        expiry = self.credentials.expiry  # naive UTC datetime
        expires = expiry.replace(tzinfo=UTC).timestamp() if expiry else None
        return Token(str(self.credentials.token), expires, issued)

    def fix(self) -> str:
        return (
            f"check domain-wide delegation of the service account for https://mail.google.com/ "
            f"and that {self.subject} exists, then run `responder check`"
        )

    def changed(self) -> bool:
        return self._key_mtime() != self._mtime

    def _key_mtime(self) -> float:
        try:
            return self.key_path.stat().st_mtime
        except OSError:
            return -1.0

"""Helpers for the OAuth tests: a service environment that logs in with tokens from the fake IdP."""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Any

import responder

PROJECT_ROOT = Path(responder.__file__).resolve().parent.parent
SUPPORT = "support@example.test"


def token_command(idp: Any, client_id: str, secret_file: Path) -> str:
    """RESPONDER_*_TOKEN_COMMAND: one shell-quoted string (split with shlex by the config)."""
    return f"{sys.executable} -m responder.devstack.oauthstack.gettoken {idp.url} {client_id} '{secret_file}'"


def oauth_env(
    idp: Any, workdir: Path, mechanism: str, token_length: int = 0, smtp: str | None = None
) -> dict[str, str]:
    """Environment for RunningService: IMAP and SMTP on `mechanism`, a client each at the IdP."""
    env = {"PYTHONPATH": str(PROJECT_ROOT), "RESPONDER_IMAP_PASSWORD": "not-the-password"}
    for account in ("imap", "smtp"):
        secret = workdir / f"{account}-secret"
        secret.write_text(f"{account}-s3cret\n")
        idp.add_client(f"{account}-client", f"{account}-s3cret", SUPPORT, token_length)
        key = account.upper()
        env[f"RESPONDER_{key}_AUTH"] = smtp if (account == "smtp" and smtp) else mechanism
        env[f"RESPONDER_{key}_TOKEN_COMMAND"] = token_command(idp, f"{account}-client", secret)
    env["RESPONDER_SMTP_USERNAME"] = SUPPORT
    return env


def secrets_in(text: str, idp: Any) -> list[str]:
    """Every token the IdP issued (or a SASL string built from it) that appears in `text`."""
    found = []
    for token in list(idp.tokens):
        for user in (SUPPORT,):
            for sasl in (
                f"user={user}\x01auth=Bearer {token}\x01\x01",
                f"n,a={user},\x01auth=Bearer {token}\x01\x01",
            ):
                if base64.b64encode(sasl.encode()).decode()[:40] in text:
                    found.append("sasl")
        if token in text or token[:24] in text:
            found.append("token")
    return found

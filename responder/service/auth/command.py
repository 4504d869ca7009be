"""token_command: any program that prints an access token; covers every provider and vault.

The command is an argument list run without a shell, with a 30 s timeout. It prints either the
bare token or JSON `{"access_token": ..., "expires_in": seconds}` (or `expires_at`, epoch
seconds). Its stderr is used for the error message, but its stdout never is: that is the token.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Sequence

from responder.service.auth.permanent import classify
from responder.service.auth.tokens import Token, TokenError

TIMEOUT = 30.0


class CommandSource:
    def __init__(self, argv: Sequence[str], setting: str) -> None:
        self.argv = list(argv)
        self.setting = setting  # e.g. "imap.token_command", for messages
        self.description = f"token_command {self.argv[0] if self.argv else '?'}"

    def fetch(self) -> Token:
        issued = time.time()
        try:
            proc = subprocess.run(
                self.argv, capture_output=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL
            )
        except FileNotFoundError:
            raise TokenError(f"{self.setting}: {self.argv[0]} not found", permanent=True) from None
        except PermissionError:
            raise TokenError(f"{self.setting}: {self.argv[0]} is not executable", True) from None
        except subprocess.TimeoutExpired:
            raise TokenError(f"{self.setting}: no token within {TIMEOUT:g} s") from None
        if proc.returncode != 0:
            error = _last_line(proc.stderr) or f"exit status {proc.returncode}"
            permanent, why = classify(proc.stderr.decode("utf-8", "replace"))
            detail = f" ({why})" if why and why.split(":")[0] not in error else ""
            raise TokenError(f"{self.setting} failed: {error}{detail}", permanent)
        return parse_output(proc.stdout, issued, self.setting)

    def fix(self) -> str:
        return f"renew the grant behind {self.setting}, then run `responder check`"

    def changed(self) -> bool:
        return False  # cannot know: the pause between tries bounds the load instead


def parse_output(stdout: bytes, issued: float, setting: str) -> Token:
    """A bare token or a JSON object; anything else is an error that does not quote the output."""
    text = stdout.decode("utf-8", "replace").strip()
    if not text:
        raise TokenError(f"{setting} printed nothing")
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise TokenError(f"{setting} printed JSON that does not parse") from None
        value = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(value, str) or not value:
            raise TokenError(f"{setting} printed JSON without an access_token")
        expires: float | None = None
        if isinstance(data.get("expires_in"), int | float | str):
            try:
                expires = issued + float(data["expires_in"])
            except ValueError:
                raise TokenError(f"{setting} printed an expires_in that is not a number") from None
        elif isinstance(data.get("expires_at"), int | float):
            expires = float(data["expires_at"])
        return Token(value, expires, issued)
    if any(c.isspace() for c in text):
        raise TokenError(f"{setting} printed more than one word (expected a token or JSON)")
    return Token(text, None, issued)


def _last_line(stderr: bytes) -> str:
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[-1].strip()[:300] if lines else ""

"""Reading a credential file: a path, or a systemd `LoadCredential=` name.

systemd puts credentials in $CREDENTIALS_DIRECTORY (readable only by the service); a bare
name found there wins, so a unit can say `LoadCredential=ms-secret:/etc/responder/ms-secret`
and the config `client_secret_file = "ms-secret"`.
"""

from __future__ import annotations

import os
from pathlib import Path

from responder.errors import PermanentError


def credential_path(name: str) -> Path:
    directory = os.environ.get("CREDENTIALS_DIRECTORY", "")
    if directory and "/" not in name and (Path(directory) / name).exists():
        return Path(directory) / name
    return Path(name).expanduser()


def read_credential(name: str, key: str) -> str:
    path = credential_path(name)
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise PermanentError(f"{key}: cannot read {path}: {exc.strerror}") from None

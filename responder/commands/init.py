"""`responder init DIR`: a starter configuration for a real mailbox, from the shipped defaults.

After `pip install`, nothing of the source tree is needed: the documented config,
the routing rules and the templates come out of the package, for admins to edit.
Existing files are never overwritten (an admin's edits are worth more than ours).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from responder.config.defaults import EXAMPLE_CONFIG, ROUTING_RULES, TEMPLATES
from responder.errors import ResponderError

ENV_TEMPLATE = """\
# Secrets for responder (read by systemd's EnvironmentFile=, or `set -a; . ./responder.env`).
# Keep this file mode 0600. Replace the placeholders; never put passwords in responder.toml.
RESPONDER_IMAP_PASSWORD=change-me
RESPONDER_SMTP_PASSWORD=change-me
"""


def starter_config() -> str:
    """The documented example, with paths pointing at the copies written beside it."""
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    return text.replace('templates = "../templates"', 'templates = "templates"')


def init(directory: Path) -> int:
    targets = [
        directory / name
        for name in ("responder.toml", "routing.toml", "templates", "responder.env")
    ]
    existing = [str(path) for path in targets if path.exists()]
    if existing:
        raise ResponderError(f"{existing[0]} already exists; not overwriting (remove it first)")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "responder.toml").write_text(starter_config(), encoding="utf-8")
        shutil.copyfile(ROUTING_RULES, directory / "routing.toml")
        shutil.copytree(TEMPLATES, directory / "templates")
        _write_secret(directory / "responder.env", ENV_TEMPLATE)
    except OSError as exc:
        raise ResponderError(f"cannot write to {directory}: {exc.strerror}") from None
    print(f"wrote {directory}/responder.toml, routing.toml, templates/, responder.env (mode 0600)")
    print(
        f"next: edit them, then RESPONDER_CONFIG={directory}/responder.toml "
        f"sh -c 'set -a; . {directory}/responder.env; responder check'"
    )
    return 0


def _write_secret(path: Path, text: str) -> None:
    """Created 0600 from the start: never readable by others, not even for a moment."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)

"""The shipped defaults: templates, routing rules, lint phrase lists, the documented config.

In the repository they live at the top (`templates/`, `config/`), where admins and
reviewers look for them; the entries in this package are symlinks to them, so a wheel
ships copies as package data, and every install (wheel, editable, a source checkout)
finds them the same way, through `importlib.resources`, never through the source tree.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def resource(name: str) -> Path:
    """A shipped file or folder on disk (`templates`, `lint`, `routing.toml`, …)."""
    found = files(__name__) / name
    # Installed as files (wheel or checkout), never zipped: the service reads templates by path.
    return Path(str(found)).resolve()


TEMPLATES = resource("templates")
ROUTING_RULES = resource("routing.toml")
LINT_PHRASES = resource("lint")
EXAMPLE_CONFIG = resource("responder.example.toml")
MACHINE_PHRASES = resource("machine_phrases.toml")

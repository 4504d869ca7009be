"""`responder check`: everything that can be wrong before the first customer writes, in one run."""

from __future__ import annotations

from responder.commands.folders import check_folders, configured_folders
from responder.config import Config
from responder.errors import ResponderError
from responder.lint.preflight import template_problems
from responder.service.imap import Mailbox
from responder.service.smtp import Sender

CAPABILITIES = ("IDLE", "MOVE", "SPECIAL-USE", "UIDPLUS", "MULTIAPPEND")


def check(config: Config) -> int:
    """Print one line per finding; exit 1 if anything would stop the service."""
    failures = 0
    print(f"ok   configuration ({config.source})")
    try:
        problems = template_problems(config)
    except ResponderError as exc:
        problems = [str(exc)]
    for problem in problems:
        print(f"FAIL template {problem}")
    if not problems:
        print(
            f"ok   templates ({config.reply.templates}, languages {', '.join(config.reply.languages)})"
        )
    failures += len(problems)

    mailbox = Mailbox(config.imap, config.folders.inbox)
    try:
        mailbox.connect()
        supported = [f"{name}={'yes' if mailbox.has(name) else 'no'}" for name in CAPABILITIES]
        print(f"ok   IMAP {config.imap.endpoint} as {config.imap.username}: {' '.join(supported)}")
        if not mailbox.has("IDLE"):
            print(f"note IMAP server lacks IDLE: polling every {config.service.poll_interval:g}s")
        folder_problems = check_folders(config, mailbox)
        for problem in folder_problems:
            print(f"FAIL {problem}")
        failures += len(folder_problems)
        if not folder_problems:
            print(f"ok   folders: {', '.join(configured_folders(config, mailbox))}")
    except ResponderError as exc:
        print(f"FAIL {exc}")
        failures += 1
    finally:
        mailbox.close()

    try:
        Sender(config.smtp, config.reply.envelope_sender).probe()
        auth = f"as {config.smtp.username}" if config.smtp.username else "without authentication"
        print(f"ok   SMTP {config.smtp.endpoint} {auth}")
    except ResponderError as exc:
        print(f"FAIL {exc}")
        failures += 1
    return 1 if failures else 0

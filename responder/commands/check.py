"""`responder check`: everything that can be wrong before the first customer writes, in one run."""

from __future__ import annotations

import time

from responder.commands.folders import check_folders, configured_folders
from responder.config import Config, ServerConfig
from responder.errors import ReauthorizationNeeded, ResponderError
from responder.lint.preflight import template_problems
from responder.service import auth
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

    auth.forget_all()
    auth.install(config)
    mailbox = Mailbox(config.imap, config.folders.inbox)
    try:
        mailbox.connect()
        supported = [f"{name}={'yes' if mailbox.has(name) else 'no'}" for name in CAPABILITIES]
        print(
            f"ok   IMAP {config.imap.endpoint} as {config.imap.username} "
            f"({login_mode(config.imap, 'imap')}): {' '.join(supported)}"
        )
        if not mailbox.has("IDLE"):
            print(f"note IMAP server lacks IDLE: polling every {config.service.poll_interval:g}s")
        folder_problems = check_folders(config, mailbox)
        for problem in folder_problems:
            print(f"FAIL {problem}")
        failures += len(folder_problems)
        if not folder_problems:
            print(f"ok   folders: {', '.join(configured_folders(config, mailbox))}")
        if not mailbox.has("MOVE"):
            print("note IMAP server lacks MOVE: filing by COPY + \\Deleted + EXPUNGE")
        for note in mailbox.quirks.notes():
            print(f"note IMAP {note}")
        sent = mailbox.sent_folder(config.folders.sent)
        if sent:
            print(f"ok   copies of acknowledgments go to {sent}")
    except ResponderError as exc:
        print(f"FAIL {_failure(exc)}")
        failures += 1
    finally:
        mailbox.close()

    try:
        Sender(config.smtp, config.reply.envelope_sender).probe()
        who = f"as {config.smtp.username}" if config.smtp.username else "without authentication"
        mode = f" ({login_mode(config.smtp, 'smtp')})" if config.smtp.username else ""
        print(f"ok   SMTP {config.smtp.endpoint} {who}{mode}")
    except ResponderError as exc:
        print(f"FAIL {_failure(exc)}")
        failures += 1
    return 1 if failures else 0


def login_mode(server: ServerConfig, account: str) -> str:
    """How we logged in, e.g. "XOAUTH2, token from token_command get-token, valid 59 min"."""
    provider = auth.provider_for(server, account)
    if provider is None:
        return "password"
    expires = provider.expires_at()
    left = f", valid {max(0, int((expires - time.time()) / 60))} min" if expires else ""
    return f"{server.auth.upper()}, token from {provider.source.description}{left}"


def _failure(exc: ResponderError) -> str:
    if isinstance(exc, ReauthorizationNeeded):
        return f"needs re-authorization: {exc}"
    return str(exc)

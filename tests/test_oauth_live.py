"""OAuth2 end to end on loopback: the real service, Dovecot's oauth2 passdb, Postfix SASL via
Dovecot, tokens from a token_command that asks the fake identity provider."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from oauthkit import SUPPORT, oauth_env, secrets_in
from servicekit import (
    RunningService,
    acknowledgments,
    customer_mail,
    duplicates,
    messages_by_folder,
    wait_until,
)

pytestmark = pytest.mark.stack


def _filed(stack: Any, subject: str) -> list[str]:
    folders = messages_by_folder(stack, SUPPORT)
    return [name for name, msgs in folders.items() for m in msgs if m["Subject"] == subject]


@pytest.mark.parametrize(
    ("mechanism", "length"), [("xoauth2", 0), ("oauthbearer", 0), ("xoauth2", 3000)]
)
def test_acknowledges_and_files_with_oauth(
    oauth_stack: Any, fake_idp: Any, tmp_path: Path, mechanism: str, length: int
) -> None:
    env = oauth_env(fake_idp, tmp_path, mechanism, length)
    env["RESPONDER_SERVICE_LOG_LEVEL"] = "DEBUG"  # even at DEBUG, no token and no SASL string
    service = RunningService(oauth_stack, tmp_path, env=env)
    subject = f"Invoice charged twice ({mechanism} {length})"
    service.start()
    try:
        oauth_stack.deliver(
            "support", customer_mail("customer1@example.test", SUPPORT, subject, "Please refund.")
        )
        acks = wait_until(
            lambda: [
                a for a in acknowledgments(oauth_stack, "customer1") if subject in str(a["Subject"])
            ],
            30,
            "the acknowledgment",
        )
        wait_until(
            lambda: any(f.startswith("Queues/") for f in _filed(oauth_stack, subject)), 15, "filing"
        )
    finally:
        service.stop()
    assert len(acks) == 1 and duplicates(acks) == 0
    if length:
        assert all(len(t) == length for t in fake_idp.tokens), "the IdP issued long tokens"
    postfix_log = (oauth_stack.state_dir / "log" / "postfix.log").read_text()
    assert f"sasl_method={mechanism.upper()}, sasl_username={SUPPORT}" in postfix_log
    assert fake_idp.count("token:client_credentials") >= 2  # one for IMAP, one for SMTP
    assert fake_idp.count("introspect") >= 2  # Dovecot checked them, for IMAP and for SMTP
    log = service.log()
    assert "DEBUG" in log and secrets_in(log, fake_idp) == []


def test_token_expiring_mid_idle_is_replaced_without_loss_or_duplicate(
    oauth_stack: Any, fake_idp: Any, tmp_path: Path
) -> None:
    fake_idp.ttl = 6.0  # renewed at half its life: a new IMAP connection every ~3 s
    service = RunningService(oauth_stack, tmp_path, env=oauth_env(fake_idp, tmp_path, "xoauth2"))
    service.start()
    subjects = [f"Parcel {n} never arrived" for n in range(4)]
    try:
        for n, subject in enumerate(subjects):
            time.sleep(2.2)  # arrivals fall before, during and after token changes
            oauth_stack.deliver(
                "support",
                customer_mail(f"customer{n + 2}@example.test", SUPPORT, subject, "Where?"),
            )
        for n, subject in enumerate(subjects):
            wait_until(
                lambda n=n, subject=subject: [
                    a
                    for a in acknowledgments(oauth_stack, f"customer{n + 2}")
                    if subject in str(a["Subject"])
                ],
                30,
                f"acknowledgment {n}",
            )
        time.sleep(1.0)
    finally:
        service.stop()
    log = service.log()
    assert log.count("token about to expire, reconnecting") >= 2, log
    for n, subject in enumerate(subjects):
        acks = [
            a
            for a in acknowledgments(oauth_stack, f"customer{n + 2}")
            if subject in str(a["Subject"])
        ]
        assert len(acks) == 1, f"{subject}: {len(acks)} acknowledgments"
        assert any(f.startswith("Queues/") for f in _filed(oauth_stack, subject)), subject
    assert "Traceback" not in log and secrets_in(log, fake_idp) == []


def test_revoked_grant_needs_reauthorization_without_a_retry_storm(
    oauth_stack: Any, fake_idp: Any, tmp_path: Path
) -> None:
    fake_idp.ttl = 4.0
    service = RunningService(oauth_stack, tmp_path, env=oauth_env(fake_idp, tmp_path, "xoauth2"))
    service.start()
    try:
        fake_idp.revoke(SUPPORT)
        revoked_at = fake_idp.count("token:")
        status = service.state_dir / "needs-reauthorization"
        wait_until(status.exists, 15, "the needs-reauthorization status")
        subject = "Mail that arrives while the grant is revoked"
        oauth_stack.deliver(
            "support", customer_mail("customer9@example.test", SUPPORT, subject, "Hello?")
        )
        time.sleep(12)  # the service loop retries every few seconds: the IdP must not notice
        requests = fake_idp.count("token:") - revoked_at
    finally:
        service.stop()
    log = service.log()
    assert requests == 1, f"{requests} token requests after the revocation"
    lines = [line for line in log.splitlines() if "needs re-authorization" in line]
    assert len(lines) == 1, lines
    assert "invalid_grant" in lines[0] and "renew the grant behind imap.token_command" in lines[0]
    text = status.read_text()
    assert text.count("\n") == 1 and text.startswith("needs re-authorization: ")
    assert subject in [m["Subject"] for m in messages_by_folder(oauth_stack, SUPPORT)["INBOX"]]
    assert "Traceback" not in log


def test_server_without_keywords_gets_none_and_still_works(
    make_oauth_stack: Any, tmp_path: Path
) -> None:
    stack = make_oauth_stack(
        keywords=False
    )  # PERMANENTFLAGS (\Deleted \Seen), as restrictive as it gets
    env = {"PYTHONPATH": oauth_env.__globals__["PROJECT_ROOT"].as_posix()}
    service = RunningService(stack, tmp_path, env=env)
    subject = "I CANNOT LOG IN and nobody answers"
    service.start()
    try:
        stack.deliver(
            "support",
            customer_mail(
                "customer4@example.test", SUPPORT, subject, "Fix it today or I call my lawyer."
            ),
        )
        wait_until(
            lambda: [
                a for a in acknowledgments(stack, "customer4") if subject in str(a["Subject"])
            ],
            30,
            "the acknowledgment",
        )
        folder = wait_until(
            lambda: [f for f in _filed(stack, subject) if f.startswith("Queues/")], 15, "filing"
        )[0]
    finally:
        service.stop()
    with stack.imap("support") as client:
        client.select_folder(folder, readonly=True)
        flags = [
            f
            for item in client.fetch(client.search("ALL"), ["FLAGS"]).values()
            for f in item[b"FLAGS"]
        ]
    assert flags and all(f in (b"\\Seen", b"\\Recent") for f in flags), flags
    log = service.log()
    assert "priority=yes" in log  # it was priority mail: the flag is what the server refused
    assert "ERROR" not in log and "failed" not in log, log


@pytest.mark.parametrize("keywords", [True, False])
def test_flags_follow_permanentflags(make_oauth_stack: Any, keywords: bool) -> None:
    """What is STOREd follows what the server says it keeps (Dovecot ignores the rest silently,
    Exchange does not: so the service must not send it)."""
    from responder.config import ServerConfig
    from responder.service.imap import Mailbox

    stack = make_oauth_stack(keywords=keywords)
    stack.deliver("support", customer_mail("customer5@example.test", SUPPORT, "flags", "x"))
    server = ServerConfig(
        port=stack.imap_port, security="plain", username=SUPPORT, password=stack.password
    )
    mailbox = Mailbox(server)
    mailbox.connect()
    try:
        assert mailbox.client is not None
        stored: list[list[bytes]] = []
        real = mailbox.client.add_flags
        mailbox.client.add_flags = lambda uids, flags, silent=False: (  # type: ignore[method-assign]
            stored.append(list(flags)) or real(uids, flags, silent=silent)
        )
        uids = mailbox.search_all()
        mailbox.add_flags(uids, ["billing", "\\Flagged", "#REF-1"])
        mailbox.add_flags(uids, ["\\Seen"])
    finally:
        mailbox.close()
    if keywords:
        assert stored == [[b"billing", b"\\Flagged", b"#REF-1"], [b"\\Seen"]]
    else:
        assert stored == [[b"\\Seen"]]


def test_bye_mid_idle_gets_a_new_token_and_loses_nothing(
    oauth_stack: Any, fake_idp: Any, tmp_path: Path
) -> None:
    """Microsoft ends IDLE with `BYE … AccessTokenExpired`: reconnect with a new token."""
    service = RunningService(oauth_stack, tmp_path, env=oauth_env(fake_idp, tmp_path, "xoauth2"))
    service.start()
    try:
        before = fake_idp.count("token:")
        oauth_stack._doveadm("kick", SUPPORT)  # the server says BYE to the idling session
        wait_until(lambda: fake_idp.count("token:") > before, 15, "a new token after BYE")
        subject = "Sent right after the server dropped us"
        oauth_stack.deliver(
            "support", customer_mail("customer6@example.test", SUPPORT, subject, "Anyone?")
        )
        acks = wait_until(
            lambda: [
                a for a in acknowledgments(oauth_stack, "customer6") if subject in str(a["Subject"])
            ],
            30,
            "the acknowledgment",
        )
    finally:
        service.stop()
    assert len(acks) == 1
    assert "server closed the connection (BYE)" in service.log()

"""Shared pytest fixtures.

Mail stack fixtures (section below): tests marked `stack` run against a real Dovecot + Postfix
started by `responder.devstack.mailstack`. If the servers cannot run here (not installed, not root),
those tests are SKIPPED on a developer machine, but FAIL when the environment variable
CI=true: in CI a missing mail server is a broken pipeline, never a silently green one.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from responder.devstack.mailstack import MailStack, servers_available

# ---------------------------------------------------------------------------------------------
# Mail stack fixtures (owned by responder/mailstack; keep this section self-contained)
# ---------------------------------------------------------------------------------------------


def _require_mail_servers() -> None:
    """Skip (developer machine) or fail (CI=true) when no MailStack can run here."""
    reason = servers_available()
    if reason is None:
        _sigterm_as_interrupt()
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but the mail stack cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


def _sigterm_as_interrupt() -> None:
    """`timeout` and CI cancellation send SIGTERM, whose default action skips every cleanup and
    would leave daemons running. As KeyboardInterrupt, pytest tears the fixtures down (and
    MailStack's atexit finalizer is a second net)."""
    if (
        signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        and threading.current_thread() is threading.main_thread()
    ):
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def mailstack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailStack]:
    """One stack for the whole session (started once, ~0.3 s). Tests share its mailboxes:
    use unique subjects/search criteria, `clear(user)`, and switch off any Sieve you set."""
    _require_mail_servers()
    stack = MailStack(tmp_path_factory.mktemp("mailstack"))
    stack.start()
    try:
        yield stack
    finally:
        stack.cleanup()


@pytest.fixture
def make_mailstack(tmp_path: Path) -> Iterator[Callable[..., MailStack]]:
    """Factory for isolated stacks, stopped and removed at teardown. Keyword arguments go to
    MailStack(); pass start=False to get an unstarted one. Use it for tests that stop daemons
    or change global state."""
    _require_mail_servers()
    stacks: list[MailStack] = []

    def make(*, start: bool = True, **kwargs: Any) -> MailStack:
        stack = MailStack(tmp_path / f"mailstack{len(stacks)}", **kwargs)
        stacks.append(stack)
        if start:
            stack.start()
        return stack

    try:
        yield make
    finally:
        for stack in reversed(stacks):
            stack.cleanup()


# ---------------------------------------------------------------------------------------------
# End of mail stack fixtures
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Other tools the tests need
# ---------------------------------------------------------------------------------------------


def require(value: Any, what: str) -> Any:
    """A tool the test needs: missing means skip on a developer machine, FAIL under CI=true."""
    if value:
        return value
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {what} is missing", pytrace=False)
    pytest.skip(f"{what} is missing")


# ---------------------------------------------------------------------------------------------
# OAuth stack fixtures (owned by responder/devstack/oauthstack): a fake identity provider and a
# stack whose Dovecot and Postfix also accept XOAUTH2 / OAUTHBEARER tokens it issued.
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def fake_idp() -> Iterator[Any]:
    from responder.devstack.oauthstack import FakeIdP

    idp = FakeIdP().start()
    try:
        yield idp
    finally:
        idp.stop()


@pytest.fixture
def make_oauth_stack(tmp_path: Path, fake_idp: Any) -> Iterator[Callable[..., Any]]:
    """Factory for OAuth stacks on `fake_idp` (keywords=False: PERMANENTFLAGS without \\*)."""
    from responder.devstack.oauthstack import OAuthMailStack

    _require_mail_servers()
    stacks: list[Any] = []

    def make(**kwargs: Any) -> Any:
        stack = OAuthMailStack(tmp_path / f"oauthstack{len(stacks)}", fake_idp, **kwargs)
        stacks.append(stack)
        stack.start()
        return stack

    try:
        yield make
    finally:
        for stack in reversed(stacks):
            stack.cleanup()


@pytest.fixture
def oauth_stack(make_oauth_stack: Callable[..., Any]) -> Any:
    return make_oauth_stack()

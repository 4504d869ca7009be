"""Token cache, renewal, the needs-re-authorization state, token_command output, OAuth config."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from responder import config as config_module
from responder.errors import ConfigError, ReauthorizationNeeded, TransientError
from responder.service.auth import needs_reauthorization, state
from responder.service.auth.command import CommandSource, parse_output
from responder.service.auth.permanent import classify
from responder.service.auth.tokens import REAUTH_PAUSE, Token, TokenError, TokenProvider

USERS = {"RESPONDER_IMAP_USERNAME": "s@example.test", "RESPONDER_SMTP_USERNAME": "s@example.test"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class ScriptedSource:
    """A token source that answers from a script (the real ones are tested against the IdP)."""

    description = "scripted"

    def __init__(self, clock: Clock, answers: list[object]) -> None:
        self.clock = clock
        self.answers = answers
        self.calls = 0
        self.credentials_changed = False

    def fetch(self) -> Token:
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        value, lifetime = answer  # type: ignore[misc]
        return Token(value, self.clock.now + lifetime if lifetime else None, self.clock.now)

    def fix(self) -> str:
        return "log in again"

    def changed(self) -> bool:
        return self.credentials_changed


@pytest.fixture(autouse=True)
def _fresh_state() -> None:
    state.reset()


def test_token_is_reused_until_ten_minutes_before_expiry() -> None:
    clock = Clock()
    source = ScriptedSource(clock, [("t1", 3600), ("t2", 3600)])
    provider = TokenProvider("imap", "u@x", "xoauth2", source, clock)
    assert provider.token() == "t1"
    clock.now += 2999
    assert provider.token() == "t1" and source.calls == 1
    clock.now += 2  # 599 s left
    assert provider.token() == "t2" and source.calls == 2


def test_short_lived_tokens_renew_at_half_life_and_bare_tokens_after_five_minutes() -> None:
    clock = Clock()
    source = ScriptedSource(clock, [("short", 60), ("bare", None), ("bare2", None)])
    provider = TokenProvider("imap", "u@x", "xoauth2", source, clock)
    provider.token()
    assert provider.refresh_due() == clock.now + 30
    clock.now += 31
    assert provider.token() == "bare" and provider.refresh_due() is None
    clock.now += 299
    assert provider.token() == "bare"
    clock.now += 2
    assert provider.token() == "bare2"


def test_permanent_failure_enters_reauthorization_without_a_storm() -> None:
    clock = Clock()
    revoked = TokenError("invalid_grant: revoked", permanent=True)
    source = ScriptedSource(clock, [("t1", 60), revoked, revoked, ("t2", 3600)])
    provider = TokenProvider("imap", "u@x", "xoauth2", source, clock)
    provider.token()
    clock.now += 31
    with pytest.raises(ReauthorizationNeeded, match="invalid_grant: revoked; log in again"):
        provider.token()
    assert needs_reauthorization() == "needs re-authorization: invalid_grant: revoked; log in again"
    for _ in range(100):  # the service loop asks every few seconds
        clock.now += 0.5
        with pytest.raises(ReauthorizationNeeded):
            provider.token()
    assert source.calls == 2  # the provider was not asked again during the pause
    clock.now += REAUTH_PAUSE
    with pytest.raises(ReauthorizationNeeded):
        provider.token()
    assert source.calls == 3  # one try after the pause; the next pause is twice as long
    clock.now += REAUTH_PAUSE * 1.5
    with pytest.raises(ReauthorizationNeeded):
        provider.token()
    assert source.calls == 3
    source.credentials_changed = True  # e.g. `responder auth login` wrote a new cache
    assert provider.token() == "t2" and source.calls == 4
    provider.succeeded()
    assert needs_reauthorization() is None


def test_transient_failure_is_retryable_and_not_reauthorization() -> None:
    clock = Clock()
    down = TokenError("timeout")
    source = ScriptedSource(clock, [down, down, ("t1", 3600)])
    provider = TokenProvider("smtp", "u@x", "xoauth2", source, clock)
    with pytest.raises(TransientError) as caught:
        provider.token()
    assert not isinstance(caught.value, ReauthorizationNeeded)
    for _ in range(9):  # asked every half second: the provider is asked after 5 s, not before
        clock.now += 0.5
        with pytest.raises(TransientError, match="SMTP token: timeout"):
            provider.token()
    assert source.calls == 1
    clock.now += 0.6
    with pytest.raises(TransientError):
        provider.token()
    assert source.calls == 2
    clock.now += 9  # the pause doubled to 10 s
    with pytest.raises(TransientError):
        provider.token()
    clock.now += 1.1
    assert provider.token() == "t1" and source.calls == 3
    assert needs_reauthorization() is None


def test_status_file_holds_one_line_while_the_state_lasts(tmp_path: Path) -> None:
    state.set_state_dir(tmp_path)
    try:
        state.flag("smtp", "invalid_client; fix the secret")
        state.flag("smtp", "invalid_client; fix the secret")  # said once
        path = tmp_path / state.STATUS_FILE
        assert path.read_text() == "needs re-authorization: invalid_client; fix the secret\n"
        state.clear("smtp")
        assert not path.exists()
    finally:
        state.set_state_dir(None)


@pytest.mark.parametrize(
    ("output", "value", "lifetime"),
    [
        (b"ya29.bare-token\n", "ya29.bare-token", None),
        (b'{"access_token": "eyJ0", "expires_in": 3599}', "eyJ0", 3599.0),
        (b'{"access_token": "eyJ0", "expires_in": "3599"}', "eyJ0", 3599.0),
    ],
)
def test_token_command_output(output: bytes, value: str, lifetime: float | None) -> None:
    token = parse_output(output, 100.0, "imap.token_command")
    assert token.value == value
    assert (token.expires_at - 100.0 if token.expires_at else None) == lifetime


@pytest.mark.parametrize(
    ("output", "error"),
    [
        (b"", "printed nothing"),
        (b"Enter your password: secret-token", "more than one word"),
        (b'{"token": "abc"}', "without an access_token"),
        (b"{not json", "does not parse"),
    ],
)
def test_bad_token_command_output_never_quotes_it(output: bytes, error: str) -> None:
    with pytest.raises(TokenError, match=error) as caught:
        parse_output(output, 0.0, "imap.token_command")
    assert "secret-token" not in str(caught.value) and "abc" not in str(caught.value)


def test_token_command_runs_without_a_shell_and_classifies_failures(tmp_path: Path) -> None:
    script = "import sys; print('AADSTS7000222: The provided client secret keys are expired.', file=sys.stderr); sys.exit(1)"
    with pytest.raises(TokenError) as caught:
        CommandSource([sys.executable, "-c", script], "smtp.token_command").fetch()
    assert caught.value.permanent and "AADSTS7000222" in str(caught.value)
    shell = CommandSource(["echo", "$HOME"], "imap.token_command").fetch()
    assert shell.value == "$HOME"  # no shell expanded it


def test_classify_knows_permanent_from_transient() -> None:
    assert classify("AADSTS50173: The provided grant has expired due to it being revoked")[0]
    assert classify('{"error": "invalid_grant"}') == (True, "invalid_grant")
    assert classify("503 Service Unavailable") == (False, "")


def test_token_command_from_the_environment_is_split_like_a_shell() -> None:
    environ = USERS | {
        "RESPONDER_IMAP_AUTH": "xoauth2",
        "RESPONDER_IMAP_TOKEN_COMMAND": "get-token --account 'Support Desk' --scope=\"mail\"",
        "RESPONDER_SMTP_AUTH": "oauthbearer",
        "RESPONDER_SMTP_TOKEN_COMMAND": "/usr/bin/vault read -field=token secret/mail",
    }
    config = config_module.load(None, environ)
    assert config.imap.auth == "xoauth2"
    assert config.imap.token_command == ("get-token", "--account", "Support Desk", "--scope=mail")
    assert config.smtp.token_command[0] == "/usr/bin/vault"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"RESPONDER_IMAP_AUTH": "oauth"},
            "imap.auth: must be one of password, xoauth2, oauthbearer",
        ),
        (
            {"RESPONDER_SMTP_AUTH": "xoauth2"},
            "smtp.token_command: required with smtp.auth = xoauth2",
        ),
        ({"RESPONDER_IMAP_TOKEN_COMMAND": "a 'b"}, "RESPONDER_IMAP_TOKEN_COMMAND: cannot split"),
        (
            {"RESPONDER_IMAP_AUTH": "xoauth2", "RESPONDER_IMAP_TOKEN_SOURCE": "microsoft"},
            "microsoft.tenant: required with imap.token_source",
        ),
        (
            {"RESPONDER_IMAP_AUTH": "xoauth2", "RESPONDER_IMAP_TOKEN_SOURCE": "google"},
            "google.service_account_file: required with imap.token_source",
        ),
    ],
)
def test_oauth_settings_are_validated(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        config_module.load(None, USERS | environ)


@pytest.mark.parametrize(
    ("source", "module", "extra"),
    [("microsoft", "msal", "microsoft"), ("google", "google.auth", "google")],
)
def test_missing_extra_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, source: str, module: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)
    environ = USERS | {"RESPONDER_IMAP_AUTH": "xoauth2", "RESPONDER_IMAP_TOKEN_SOURCE": source}
    with pytest.raises(ConfigError) as caught:
        config_module.load(None, environ)
    assert str(caught.value) == (
        f"imap.token_source: {source} needs the {module} package, which is not installed: "
        f"pip install 'responder[{extra}]'"
    )


def test_client_secret_is_refused_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text('[microsoft]\nclient_secret = "s3cret"\n')
    with pytest.raises(ConfigError, match="RESPONDER_MICROSOFT_CLIENT_SECRET"):
        config_module.load(path, {})


def test_credentials_come_from_systemd_load_credential(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from responder.errors import PermanentError
    from responder.service.auth.secrets import read_credential

    (tmp_path / "ms-secret").write_text("from-systemd\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert read_credential("ms-secret", "microsoft.client_secret_file") == "from-systemd"
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    with pytest.raises(
        PermanentError, match=r"^microsoft.client_secret_file: cannot read ms-secret"
    ):
        read_credential("ms-secret", "microsoft.client_secret_file")

"""Token sources offline: msal and google-auth run their real flows against the fake identity
provider through an injected HTTP transport; the tokens they get open the real Dovecot."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from oauthkit import SUPPORT

from responder.config import GoogleConfig, MicrosoftConfig
from responder.devstack.oauthstack.transport import LocalSession
from responder.service.auth.tokens import TokenError


@pytest.fixture(autouse=True)
def _libraries() -> None:
    from conftest import require

    for name in ("msal", "google.auth", "cryptography"):
        try:
            __import__(name)
        except ImportError:
            require(None, f"the {name} package")


def _imap_accepts(stack: Any, token: str) -> bool:
    from imapclient import IMAPClient

    client = IMAPClient(stack.host, port=stack.imap_port, ssl=False, timeout=10)
    try:
        client.oauth2_login(SUPPORT, token)
        return True
    except Exception:
        return False
    finally:
        client.shutdown()


def _microsoft(idp: Any, state: Path, session: Any = None, **settings: Any) -> Any:
    from responder.service.auth.microsoft import MicrosoftSource

    config = MicrosoftConfig(tenant="contoso-tenant", client_id="app-id", **settings)
    return MicrosoftSource(config, state, http_client=session or LocalSession(idp.url))


# --- Microsoft: client credentials ---


def test_msal_client_credentials_token_logs_in_and_is_reused(
    oauth_stack: Any, fake_idp: Any, tmp_path: Path
) -> None:
    fake_idp.add_client("app-id", "app-s3cret", SUPPORT)
    (tmp_path / "secret").write_text("app-s3cret\n")
    session = LocalSession(fake_idp.url)
    source = _microsoft(fake_idp, tmp_path, session, client_secret_file=str(tmp_path / "secret"))
    first, second = source.fetch(), source.fetch()
    assert first.value == second.value  # msal's cache: one request to the provider
    assert fake_idp.count("token:client_credentials") == 1
    assert first.expires_at is not None and first.expires_at > first.issued_at + 3000
    assert _imap_accepts(oauth_stack, first.value)
    assert session.seen and all(
        u.startswith("https://login.microsoftonline.com/") for u in session.seen
    )


def test_msal_wrong_secret_is_permanent_and_named(fake_idp: Any, tmp_path: Path) -> None:
    fake_idp.add_client("app-id", "app-s3cret", SUPPORT)
    source = _microsoft(fake_idp, tmp_path, client_secret="wrong")
    with pytest.raises(TokenError) as caught:
        source.fetch()
    assert caught.value.permanent
    assert "AADSTS7000215: the client secret is wrong" in str(caught.value)


# --- Microsoft: device code, then only the cache ---


def test_msal_device_code_login_then_silent_reuse(fake_idp: Any, tmp_path: Path) -> None:
    fake_idp.device_user = SUPPORT
    shown: list[str] = []
    who = _microsoft(fake_idp, tmp_path, flow="device_code").login(show=shown.append)
    assert who == SUPPORT and len(shown) == 1 and "ABCD-EFGH" in shown[0]
    cache = tmp_path / "msal-token-cache.json"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert json.loads(cache.read_text())["RefreshToken"]  # the login the service lives on
    asked = fake_idp.count("token:")
    # What the service does at every start: a new app, the cache from disk, no prompt.
    service_source = _microsoft(fake_idp, tmp_path, flow="device_code")
    token = service_source.fetch()
    again = service_source.fetch()
    assert token.value == again.value and fake_idp.count("token:") == asked
    assert fake_idp.introspect({"token": token.value})[1]["username"] == SUPPORT


def test_msal_device_code_renews_from_the_refresh_token(fake_idp: Any, tmp_path: Path) -> None:
    fake_idp.device_user = SUPPORT
    fake_idp.ttl = 60  # under msal's 5-minute margin: every silent call renews
    _microsoft(fake_idp, tmp_path, flow="device_code").login(show=lambda _: None)
    token = _microsoft(fake_idp, tmp_path, flow="device_code").fetch()
    assert fake_idp.count("token:refresh_token") == 1
    assert fake_idp.introspect({"token": token.value})[1]["active"]


def test_msal_revoked_refresh_token_needs_a_new_login(fake_idp: Any, tmp_path: Path) -> None:
    fake_idp.device_user = SUPPORT
    fake_idp.ttl = 60
    _microsoft(fake_idp, tmp_path, flow="device_code").login(show=lambda _: None)
    fake_idp.revoke(SUPPORT)
    source = _microsoft(fake_idp, tmp_path, flow="device_code")
    with pytest.raises(TokenError) as caught:
        source.fetch()
    assert caught.value.permanent and "AADSTS70000" in str(caught.value)
    assert source.fix() == "run `responder auth login` as the mailbox user"


def test_msal_device_code_without_a_login_says_so(fake_idp: Any, tmp_path: Path) -> None:
    with pytest.raises(TokenError) as caught:
        _microsoft(fake_idp, tmp_path, flow="device_code").fetch()
    assert caught.value.permanent and "nobody has logged in yet" in str(caught.value)
    assert fake_idp.count("token:") == 0


# --- Google: service account with domain-wide delegation ---


def _service_account_key(path: Path) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "support-desk",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "responder@support-desk.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path.write_text(json.dumps(info))
    return path


def test_google_service_account_token_logs_in(
    oauth_stack: Any, fake_idp: Any, tmp_path: Path
) -> None:
    from responder.service.auth.google import GoogleSource

    key = _service_account_key(tmp_path / "sa.json")
    session = LocalSession(fake_idp.url)
    source = GoogleSource(GoogleConfig(service_account_file=str(key)), SUPPORT, session=session)
    token = source.fetch()
    assert fake_idp.count("token:urn:ietf:params:oauth:grant-type:jwt-bearer") == 1
    assert session.seen == ["https://oauth2.googleapis.com/token"]
    assert token.expires_at is not None and token.expires_at > token.issued_at + 3000
    assert _imap_accepts(oauth_stack, token.value)  # issued for the delegated subject


def test_google_revoked_delegation_is_permanent(fake_idp: Any, tmp_path: Path) -> None:
    from responder.service.auth.google import GoogleSource

    key = _service_account_key(tmp_path / "sa.json")
    fake_idp.revoke(SUPPORT)
    source = GoogleSource(
        GoogleConfig(service_account_file=str(key)), SUPPORT, session=LocalSession(fake_idp.url)
    )
    with pytest.raises(TokenError) as caught:
        source.fetch()
    assert caught.value.permanent and "invalid_grant" in str(caught.value)


# --- `responder auth login` ---


def test_auth_login_stores_the_login_the_service_then_uses(
    fake_idp: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from responder import config as config_module
    from responder.commands.auth_login import login

    fake_idp.device_user = SUPPORT
    environ = {
        "RESPONDER_STATE_DIR": str(tmp_path),
        "RESPONDER_IMAP_USERNAME": SUPPORT,
        "RESPONDER_IMAP_AUTH": "xoauth2",
        "RESPONDER_IMAP_TOKEN_SOURCE": "microsoft",
        "RESPONDER_MICROSOFT_TENANT": "contoso-tenant",
        "RESPONDER_MICROSOFT_CLIENT_ID": "app-id",
        "RESPONDER_MICROSOFT_FLOW": "device_code",
    }
    config = config_module.load(None, environ)
    assert login(config, http_client=LocalSession(fake_idp.url)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("To sign in, open https://microsoft.com/devicelogin")
    assert out[1] == f"ok   logged in as {SUPPORT} for IMAP"
    asked = fake_idp.count("token:")
    assert _microsoft(fake_idp, tmp_path, flow="device_code").fetch().value
    assert fake_idp.count("token:") == asked


def test_auth_login_without_a_microsoft_account_is_one_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from oauthkit import PROJECT_ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith("RESPONDER_")}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "responder", "auth", "login"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == (
        'responder: auth login: no account has token_source = "microsoft" '
        "(token commands and Google service accounts need no login)\n"
    )


def test_msal_certificate_credential(fake_idp: Any, tmp_path: Path) -> None:
    """A certificate instead of a secret: msal signs a client assertion with the key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "responder")])
    import datetime

    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(1)
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "app.pem").write_bytes(pem + cert.public_bytes(serialization.Encoding.PEM))
    fake_idp.add_client("app-id", "unused-secret", SUPPORT)
    source = _microsoft(
        fake_idp,
        tmp_path,
        certificate_file=str(tmp_path / "app.pem"),
        certificate_thumbprint=cert.fingerprint(hashes.SHA1()).hex(),
    )
    token = source.fetch()
    assert fake_idp.introspect({"token": token.value})[1]["username"] == SUPPORT

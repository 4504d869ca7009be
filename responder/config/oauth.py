"""The OAuth2 token sources' settings: Microsoft 365 (msal) and Google Workspace (google-auth)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MicrosoftConfig:
    """Microsoft 365 tokens with msal (token_source = "microsoft"); needs responder[microsoft]."""

    tenant: str = ""
    client_id: str = ""
    flow: str = "client_credentials"  # or device_code (delegated; `responder auth login` once)
    client_secret: str = ""  # environment only (RESPONDER_MICROSOFT_CLIENT_SECRET)
    client_secret_file: str = ""  # a file, or a systemd LoadCredential= name
    certificate_file: str = ""  # PEM with private key, instead of a secret
    certificate_thumbprint: str = ""
    authority_host: str = "https://login.microsoftonline.com"
    scopes: tuple[str, ...] = ()  # empty: the right ones for the flow


@dataclass(frozen=True)
class GoogleConfig:
    """Google Workspace tokens with google-auth (token_source = "google"); needs responder[google]."""

    service_account_file: str = ""  # a file, or a systemd LoadCredential= name
    subject: str = ""  # the mailbox to act as; empty: imap.username

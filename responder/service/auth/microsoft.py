"""Microsoft 365 tokens with msal (extra `responder[microsoft]`).

Two flows. Client credentials (unattended, app-only: `IMAP.AccessAsApp`, `SMTP.SendAsApp`):
msal asks Entra for a token and caches it in memory. Device code (delegated): `responder auth
login` prints the instructions once and stores the refresh token in the state directory; the
service then only calls `acquire_token_silent`, which renews from that refresh token.
`http_client` lets tests point msal at a local identity provider.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from responder.config import MicrosoftConfig
from responder.errors import PermanentError
from responder.service.auth.msal_cache import CacheFile
from responder.service.auth.permanent import classify
from responder.service.auth.secrets import read_credential
from responder.service.auth.tokens import Token, TokenError

APP_SCOPES = ("https://outlook.office365.com/.default",)
DELEGATED_SCOPES = (
    "https://outlook.office365.com/IMAP.AccessAsUser.All",
    "https://outlook.office365.com/SMTP.Send",
)


class MicrosoftSource:
    def __init__(self, config: MicrosoftConfig, state_dir: Path, http_client: Any = None) -> None:
        import msal

        self.config = config
        self.delegated = config.flow == "device_code"
        self.scopes = list(config.scopes or (DELEGATED_SCOPES if self.delegated else APP_SCOPES))
        self.description = f"microsoft {config.flow} (tenant {config.tenant})"
        self.cache = msal.SerializableTokenCache()
        self.cache_file = CacheFile(state_dir, self.cache)
        authority = f"{config.authority_host.rstrip('/')}/{config.tenant}"
        common: dict[str, Any] = {"authority": authority, "token_cache": self.cache}
        if http_client is not None:
            common["http_client"] = http_client
        self.app: Any
        if self.delegated:
            self.app = msal.PublicClientApplication(config.client_id, **common)
        else:
            self.app = msal.ConfidentialClientApplication(
                config.client_id, client_credential=self._credential(), **common
            )

    def _credential(self) -> Any:
        ms = self.config
        if ms.certificate_file:
            key = read_credential(ms.certificate_file, "microsoft.certificate_file")
            return {"private_key": key, "thumbprint": ms.certificate_thumbprint}
        if ms.client_secret:
            return ms.client_secret
        return read_credential(ms.client_secret_file, "microsoft.client_secret_file")

    def fetch(self) -> Token:
        issued = time.time()
        try:
            result = self._acquire()
        except (OSError, ValueError) as exc:  # network trouble, or an answer msal cannot read
            raise TokenError(f"microsoft: {type(exc).__name__}: {exc}") from None
        finally:
            if self.delegated:
                self.cache_file.save()
        if not result or "access_token" not in result:
            raise self._error(result or {})
        expires_in = float(result.get("expires_in") or 0) or None
        return Token(result["access_token"], issued + expires_in if expires_in else None, issued)

    def _acquire(self) -> dict[str, Any] | None:
        if not self.delegated:
            return self.app.acquire_token_for_client(scopes=self.scopes)  # type: ignore[no-any-return]
        self.cache_file.load()
        accounts = self.app.get_accounts()
        if not accounts:
            raise TokenError("microsoft: nobody has logged in yet", permanent=True)
        return self.app.acquire_token_silent_with_error(self.scopes, account=accounts[0])  # type: ignore[no-any-return]

    def _error(self, result: dict[str, Any]) -> TokenError:
        text = f"{result.get('error', 'no token')}: {result.get('error_description', '')}"
        permanent, why = classify(text)
        if self.delegated and not result:
            permanent, why = True, "the stored login cannot be renewed"
        first_line = text.strip().splitlines()[0][:200]
        return TokenError(f"microsoft: {why or first_line}", permanent)

    def fix(self) -> str:
        if self.delegated:
            return "run `responder auth login` as the mailbox user"
        return (
            "check the app's client secret or certificate and admin consent for "
            "IMAP.AccessAsApp/SMTP.SendAsApp in Entra, then run `responder check`"
        )

    def changed(self) -> bool:
        return self.delegated and self.cache_file.changed_on_disk()

    def login(self, show: Any = print) -> str:
        """Delegated device-code login (`responder auth login`); returns who logged in."""
        if not self.delegated:
            raise PermanentError("microsoft.flow is client_credentials: nothing to log in")
        self.cache_file.load()
        flow = self.app.initiate_device_flow(scopes=self.scopes)
        if "user_code" not in flow:
            raise PermanentError(f"microsoft: device login refused: {self._error(flow)}")
        show(flow["message"])
        result = self.app.acquire_token_by_device_flow(flow)
        if "access_token" not in result:
            raise PermanentError(str(self._error(result)))
        self.cache_file.save()
        accounts = self.app.get_accounts()
        return str(accounts[0].get("username", "")) if accounts else ""

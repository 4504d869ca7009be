"""`responder auth login`: the one interactive step of a delegated (device-code) Microsoft login.

It prints Microsoft's instructions once ("open https://microsoft.com/devicelogin and enter
…"), waits for the user to finish in a browser anywhere, and stores the login in the state
directory. The service never prompts: it only renews from what is stored here, and says
"needs re-authorization" when that stops working.
"""

from __future__ import annotations

from typing import Any

from responder.config import Config
from responder.errors import ResponderError


def login(config: Config, http_client: Any = None) -> int:
    users = [
        name
        for name in ("imap", "smtp")
        if getattr(config, name).auth != "password"
        and getattr(config, name).token_source == "microsoft"
    ]
    if not users:
        raise ResponderError(
            'auth login: no account has token_source = "microsoft" '
            "(token commands and Google service accounts need no login)"
        )
    if config.microsoft.flow != "device_code":
        raise ResponderError(
            "auth login: microsoft.flow is client_credentials: the app needs no interactive "
            'login (set flow = "device_code" for a delegated login)'
        )
    from responder.service.auth.microsoft import MicrosoftSource

    source = MicrosoftSource(config.microsoft, config.state_dir(), http_client=http_client)
    who = source.login()
    print(f"ok   logged in as {who or 'unknown user'} for {', '.join(users).upper()}")
    print(f"ok   login stored in {source.cache_file.path} (mode 0600); the service renews it")
    return 0

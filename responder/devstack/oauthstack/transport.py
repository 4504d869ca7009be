"""An HTTP transport that sends Microsoft's and Google's token traffic to the fake IdP.

msal takes `http_client=` and google-auth's `Request(session)` a requests session: both get
this one, so their real token flows run offline against `idp.FakeIdP`. Needs `requests`
(which msal and google-auth depend on anyway).
"""

from __future__ import annotations

from typing import Any

import requests

REAL_HOSTS = {
    "https://login.microsoftonline.com": "/ms",
    "https://oauth2.googleapis.com": "/google",
}


class LocalSession(requests.Session):
    def __init__(self, idp_url: str) -> None:
        super().__init__()
        self.idp_url = idp_url.rstrip("/")
        self.seen: list[str] = []  # the URLs the library asked for, before rewriting

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        text = url.decode() if isinstance(url, bytes) else url
        self.seen.append(text)
        for real, prefix in REAL_HOSTS.items():
            if text.startswith(real):
                text = self.idp_url + prefix + text[len(real) :]
                break
        else:
            raise ValueError(f"refusing to contact {text}: only the local identity provider")
        return super().request(method, text, *args, **kwargs)

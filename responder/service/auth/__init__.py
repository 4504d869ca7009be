"""OAuth2 logins (XOAUTH2, OAUTHBEARER) for IMAP and SMTP: token sources, cache, status.

Sources: `command` (any program), `microsoft` (msal; extra `responder[microsoft]`), `google`
(google-auth; extra `responder[google]`). Status hook for `status`, /healthz and metrics:
`needs_reauthorization()` returns None or one line "needs re-authorization: <what and the fix>"
(also written to `<state_dir>/needs-reauthorization` while it holds).
"""

from responder.service.auth.registry import (
    forget_all,
    forget_token,
    idle_window,
    install,
    provider_for,
    ready_provider,
)
from responder.service.auth.state import needs_reauthorization

__all__ = [
    "forget_all",
    "forget_token",
    "idle_window",
    "install",
    "needs_reauthorization",
    "provider_for",
    "ready_provider",
]

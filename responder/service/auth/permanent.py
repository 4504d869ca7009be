"""Which identity-provider errors a retry cannot fix.

OAuth2 (RFC 6749 §5.2) says `invalid_grant` (revoked or expired grant), `invalid_client`
(wrong or expired secret) and `unauthorized_client`; Microsoft adds AADSTS codes that say
which. Everything else (timeouts, 5xx, throttling) is worth retrying.
"""

from __future__ import annotations

import re

PERMANENT_ERRORS = ("invalid_grant", "invalid_client", "unauthorized_client", "access_denied")
# AADSTS codes that need a human: revoked/expired grants, consent, secrets, unknown apps.
AADSTS_PERMANENT = {
    "50034": "the user account does not exist in the tenant",
    "50057": "the user account is disabled",
    "50076": "multi-factor authentication is required: log in again",
    "50173": "the grant was revoked (password change): log in again",
    "65001": "the app has no consent for these permissions: grant admin consent",
    "70000": "the grant is invalid or revoked: log in again",
    "70008": "the refresh token expired after inactivity: log in again",
    "700016": "the application id is not known in this tenant",
    "700024": "the client assertion is not valid (certificate)",
    "700082": "the refresh token expired after inactivity: log in again",
    "7000215": "the client secret is wrong",
    "7000222": "the client secret expired: create a new one",
    "90002": "the tenant does not exist",
}
_AADSTS = re.compile(r"AADSTS(\d+)")


def classify(text: str) -> tuple[bool, str]:
    """(permanent?, a one-line explanation) for an identity provider's error text."""
    match = _AADSTS.search(text)
    if match and match.group(1) in AADSTS_PERMANENT:
        return True, f"AADSTS{match.group(1)}: {AADSTS_PERMANENT[match.group(1)]}"
    lowered = text.lower()
    for code in PERMANENT_ERRORS:
        if code in lowered:
            return True, code
    return False, ""

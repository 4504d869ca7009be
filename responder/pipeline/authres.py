"""Authentication-Results (RFC 8601): did our own receiving server see a forged sender?

Only headers whose authserv-id the admin names as ours are believed: anyone can write an
Authentication-Results header into a message, but only our MX adds one with its own id
(and the topmost such header is the one it added last). DMARC decides when it has a
result; without one, an SPF `fail` does. A forged sender gets no acknowledgment (we would
be sending our mail to a victim of the forgery); the message is still filed for a human.
"""

from __future__ import annotations

import re

from responder.pipeline.parse import ParsedMessage

_RESULT = re.compile(r"(?i)\b(dmarc|spf)\s*=\s*([a-z]+)")


def forged_sender(message: ParsedMessage, trusted_ids: tuple[str, ...]) -> str | None:
    """The failed check ("dmarc=fail", "spf=fail") from the first trusted header, or None."""
    trusted = {name.lower() for name in trusted_ids}
    if not trusted:
        return None
    for value in message.headers.get("authentication-results", []):
        authserv, _, results = value.partition(";")
        words = authserv.split()
        if not words or words[0].lower() not in trusted:
            continue
        found: dict[str, str] = {}
        for method, result in _RESULT.findall(results):
            found.setdefault(method.lower(), result.lower())
        if "dmarc" in found:
            return "dmarc=fail" if found["dmarc"] == "fail" else None
        return "spf=fail" if found.get("spf") == "fail" else None
    return None

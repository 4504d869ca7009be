"""What we repeat of the customer's own words, made safe to repeat.

An acknowledgment goes to whatever address the mail names (From or Reply-To), from our
domain, and repeats the subject and display name. Anyone can forge those: repeated
verbatim, a 4 KB subject carrying a phishing link would turn us into a relay for spam that
passes our domain's SPF and DKIM. So what is echoed is short and carries no link or address.
"""

from __future__ import annotations

import re

MAX_SUBJECT = 120
MAX_NAME = 60
_FILE_SUFFIXES = "pdf|docx?|xlsx?|pptx?|odt|ods|csv|txt|jpe?g|png|gif|heic|zip|eml|msg|xml|json"
_URL = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.-]*://|www\.)\S+")
_ADDRESS = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
_HOST = re.compile(
    rf"(?i)\b(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?!(?:{_FILE_SUFFIXES})\b)[a-z]{{2,24}}\b(?:/\S*)?"
)


def _without_links(text: str) -> str:
    for pattern in (_URL, _ADDRESS, _HOST):
        text = pattern.sub(" ", text)
    return " ".join(text.split())


def _shortened(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + "…"


def safe_subject(subject: str) -> str:
    """The customer's subject as we may repeat it: no links or addresses, at most 120 chars."""
    return _shortened(_without_links(subject), MAX_SUBJECT)


def safe_name(name: str) -> str:
    """The display name as we may greet it: no links or addresses, at most 60 chars."""
    return _shortened(_without_links(name), MAX_NAME)

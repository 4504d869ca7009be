"""Set quoted history and signatures aside, so classification sees only what the customer wrote now.

A reply quotes our acknowledgment (full of words like "invoice" or "order")
and older mails, often in another language; routing and language detection
must not be swayed by them.
"""

import re

_REPLY_HEADER = re.compile(
    r"^\s*(?:"
    r"On\b.{0,300}\bwrote:"
    r"|El\b.{0,300}\bescribi[oó]:"
    r"|Op\b.{0,300}\b(?:schreef|geschreven)\b.{0,80}:"
    r"|Am\b.{0,300}\bschrieb\b.{0,80}:"
    r"|Le\b.{0,300}\ba [ée]crit\s?:"
    r"|Em\b.{0,300}\bescreveu:"
    r"|-{2,}\s*(?:Original Message|Mensaje original|Oorspronkelijk bericht|Origineel bericht"
    r"|Urspr[üu]ngliche Nachricht|Message d'origine|Mensagem original|Forwarded message"
    r"|Mensaje reenviado|Doorgestuurd bericht|Weitergeleitete Nachricht|Message transf[ée]r[ée]"
    r"|Mensagem encaminhada)\s*-{2,}"
    r")\s*$",
    re.IGNORECASE,
)
_HEADER_BLOCK_START = re.compile(r"^\s*\*?(?:From|De|Von|Van|Da)\s*:\*?\s+\S", re.IGNORECASE)
_HEADER_BLOCK_NEXT = re.compile(
    r"^\s*\*?(?:Sent|Date|Enviado|Fecha|Gesendet|Datum|Verzonden|Envoy[ée]|Data|To|Para|An|Aan|[ÀA])\s*:",
    re.IGNORECASE,
)
_MOBILE_SIGNATURE = re.compile(
    r"^\s*(?:Sent from my|Enviado desde mi|Verzonden vanaf mijn|Von meinem .* gesendet"
    r"|Envoy[ée] de mon|Enviado do meu|Get Outlook for)\b",
    re.IGNORECASE,
)
_OUTLOOK_RULE = re.compile(r"^\s*_{10,}\s*$")


def split_new_text(text: str) -> str:
    """Return the new part of a message body: above the first quote header or signature."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        if _ends_new_text(line, lines, index):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def _ends_new_text(line: str, lines: list[str], index: int) -> bool:
    if line in ("-- ", "--") or _OUTLOOK_RULE.match(line) or _MOBILE_SIGNATURE.match(line):
        return True
    if _REPLY_HEADER.match(line):
        return True
    # "On Mon, 3 Jun 2024 at 10:00, Ana <ana@x>" wrapped before "wrote:"
    if index + 1 < len(lines) and _REPLY_HEADER.match(line + " " + lines[index + 1].strip()):
        return True
    if _HEADER_BLOCK_START.match(line):
        following = lines[index + 1 : index + 5]
        return any(_HEADER_BLOCK_NEXT.match(candidate) for candidate in following)
    return False

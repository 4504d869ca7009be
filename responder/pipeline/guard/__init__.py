"""Guard: may we auto-reply to this message at all? (RFC 3834 and the lessons of mail loops.)

The rules are one ordered table (`RULES`, in table.py). Each is a pure check with a
short machine name (the `reason` the ledger, logs and `responder inspect` report), the
kind of evidence it relies on, and a description. The first rule that matches decides.

- headers.py: the RFC 3834 / vendor header, loop and sender rules; each refuses alone.
- machine.py: machine mail without those headers: report structure, NDR headers, system
  envelope senders, delivery-system senders, and phrase rules from config/machine_phrases.toml
  that refuse only with a second machine signal (facts.py).
- bounce.py: flufl.bounce, GNU Mailman's bounce detector.
"""

from responder.pipeline.guard.model import Evidence, GuardContext, Rule, Verdict
from responder.pipeline.guard.phrases import PhraseBook, load_phrasebook
from responder.pipeline.guard.table import RULES, judge

__all__ = [
    "RULES",
    "Evidence",
    "GuardContext",
    "PhraseBook",
    "Rule",
    "Verdict",
    "judge",
    "load_phrasebook",
]

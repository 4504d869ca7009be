"""`responder requeue`: send failed (or uncertain) acknowledgments again, on purpose.

The service never resends a refused acknowledgment by itself (a 5xx means the relay will
refuse it again), nor an uncertain one before `service.uncertain_resend_after`. After the
cause is fixed, an operator decides. Safe while the service runs: it only changes ledger
rows; the service sends them on its next pass (new mail, an IDLE renewal, or a restart).
"""

from __future__ import annotations

from responder.config import Config
from responder.errors import ResponderError
from responder.service.ledger import Ledger


def requeue(config: Config, keys: list[str], failed: bool, uncertain: bool) -> int:
    if not (keys or failed or uncertain):
        raise ResponderError("requeue: name acknowledgments by key, or use --failed / --uncertain")
    states = [state for state, wanted in (("failed", failed), ("uncertain", uncertain)) if wanted]
    ledger = Ledger.in_state_dir(config.state_dir())
    try:
        chosen = list(keys)
        if states:
            marks = ",".join("?" * len(states))
            rows = ledger.db.execute(
                f"SELECT key FROM messages WHERE ack_state IN ({marks})", states
            ).fetchall()
            chosen += [row[0] for row in rows]
        with ledger.transaction():
            changed = ledger.requeue(chosen)
    finally:
        ledger.close()
    print(f"{changed} acknowledgment(s) requeued; the service sends them on its next pass")
    return 0

"""Routing: which queue a message goes to (evidence from rules, else a learned model) and its priority.

`stems` (words to stems per language) → `terms` (every rule's keywords in one stem index)
→ `rules` (conditions and weights) → `router` (evidence, margin, fallback, the learned
model) ← `load` (config/routing.toml). `priority` is separate; `learned` is the model.
"""

from responder.pipeline.routing.load import build_router, load_router
from responder.pipeline.routing.router import (
    FALLBACK_QUEUE,
    Evidence,
    MessageFacts,
    Router,
    RouteResult,
)

__all__ = [
    "FALLBACK_QUEUE",
    "Evidence",
    "MessageFacts",
    "RouteResult",
    "Router",
    "build_router",
    "load_router",
]

"""Routing moved to `responder.pipeline.routing` (evidence scoring on stems, issue 12).

This name stays so that code written against it elsewhere keeps importing; new code imports
from `responder.pipeline.routing`.
"""

from responder.pipeline.routing import (
    FALLBACK_QUEUE,
    MessageFacts,
    Router,
    RouteResult,
    build_router,
    load_router,
)

__all__ = [
    "FALLBACK_QUEUE",
    "MessageFacts",
    "RouteResult",
    "Router",
    "build_router",
    "load_router",
]

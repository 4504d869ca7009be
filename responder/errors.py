"""One exception root, split into what a retry can fix and what it cannot.

The service retries only `TransientError`s (with tenacity); everything else is
reported once, in one line, and never retried.
"""


class ResponderError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(ResponderError):
    """A setting is missing or wrong; the message names the key."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


class TemplateError(ResponderError):
    """A template is missing, broken, or renders badly."""


class TransientError(ResponderError):
    """A network failure worth retrying (timeouts, refused connections, 4xx)."""


class PermanentError(ResponderError):
    """A failure a retry will not fix (bad credentials, 5xx, missing capability)."""


class ReauthorizationNeeded(TransientError):
    """An OAuth grant is revoked or expired, or the server refuses fresh tokens: a human must act.

    Transient so the service stays up (status and health checks can say why) and recovers by
    itself once the grant is fixed; the token source retries its identity provider only rarely,
    and the condition is logged once, not on every attempt.
    """

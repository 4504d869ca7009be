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

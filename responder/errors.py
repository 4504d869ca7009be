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


class CommandRefused(ResponderError):
    """The server answered a command with NO/BAD: the connection is fine, this command is not.

    Retrying at once cannot help and reconnecting cannot either: the caller counts it
    against the messages concerned (they end in Quarantine) and the service goes on.
    """


class RelayUnavailable(TransientError):
    """The SMTP relay refuses everyone (connect, greeting, EHLO, AUTH, MAIL FROM, a 421):
    an outage to wait out, never a reason to give up on one acknowledgment."""


class RecipientDeferred(TransientError):
    """A 4xx for this one message (RCPT, DATA, end of data): retry it later."""


class RecipientRefused(PermanentError):
    """A 5xx for this one message (RCPT, DATA, end of data): it will not go out."""


class UncertainDelivery(ResponderError):
    """The end of DATA was sent but no reply came: the relay may well have the mail.

    Sending it again could be a duplicate; see `responder.service.outbox` for the policy.
    """

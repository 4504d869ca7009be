"""Log lines for journald or a log pipeline: one line per event, secrets never shown.

`text` is the classic `time level logger: message`; `json` is one JSON object
per line with the message key, reference, queue and reason as fields of their own
(passed by the service as `extra=`), so a log pipeline need not parse sentences.
A traceback or a newline in a value never starts a second line: journald would
cut the event in two. Passwords are masked in every line, whatever logged them
(a library's error text, an exception): defence in depth, the code never logs them.
"""

from __future__ import annotations

import imaplib
import json
import logging
import time
from collections.abc import Iterable

from responder.config import Config

FIELDS = ("key", "reference", "queue", "priority", "reason", "uid", "folder", "recipient")
MASK = "[secret]"
MIN_SECRET = 4  # shorter values would mask ordinary words all over the log


class _Masking(logging.Formatter):
    def __init__(self, secrets: Iterable[str], fmt: str | None = None) -> None:
        super().__init__(fmt)
        self.secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True)

    @staticmethod
    def repair(record: logging.LogRecord) -> logging.LogRecord:
        """A library's malformed call (args that do not fit its format) still gives one line."""
        try:
            record.getMessage()
        except (TypeError, ValueError):
            record.msg, record.args = f"{record.msg} {record.args!r}", ()
        return record

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text


class TextFormatter(_Masking):
    """`2026-11-30 06:00:00,123 INFO responder: message`, newlines escaped."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__(secrets, "%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return (
            self.mask(super().format(self.repair(record))).replace("\r", "\\r").replace("\n", "\\n")
        )


class JsonFormatter(_Masking):
    """One JSON object per line: time, level, logger, message, the fields, and any error."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": self.mask(self.repair(record).getMessage()),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = self.mask(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["error"] = self.mask(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str, log_format: str = "text", secrets: Iterable[str] = ()) -> None:
    """Root logging to stderr (journald under systemd), once per process."""
    handler = logging.StreamHandler()
    formatter = JsonFormatter(secrets) if log_format == "json" else TextFormatter(secrets)
    handler.setFormatter(formatter)
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=[handler])
    # imapclient logs whole commands and responses (customer mail) at DEBUG; imaplib too when
    # its Debug is set. Our own DEBUG lines never carry message data; theirs may not run.
    logging.getLogger("imapclient").setLevel(max(logging.INFO, logging.getLogger().level))
    imaplib.Debug = 0  # type: ignore[attr-defined]


def configure_service_logging(config: Config) -> None:
    """As configured in [service], masking the IMAP and SMTP passwords."""
    secrets = (config.imap.password, config.smtp.password)
    configure_logging(config.service.log_level, config.service.log_format, secrets)

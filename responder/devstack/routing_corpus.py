"""Labelled routing corpora (tests/fixtures/routing_eval/): read them and turn them into mail.

The evaluation bench, the routing tests and the live learning test all need the same
labelled messages as `.eml` bytes; one reader keeps them from drifting apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

EVAL_DIR = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "routing_eval"


@dataclass(frozen=True)
class LabelledMail:
    queue: str
    variant: str  # "pt-BR", "nl-BE", …
    subject: str
    body: str

    @property
    def language(self) -> str:
        return self.variant.split("-")[0]

    def as_eml(
        self, sender: str = "customer@example.net", to: str = "support@example.test"
    ) -> bytes:
        message = EmailMessage()
        message["From"] = sender
        message["To"] = to
        message["Subject"] = self.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid("eval", domain="example.net")
        message.set_content(self.body)
        return message.as_bytes()


def load(part: str = "eval", directory: Path = EVAL_DIR) -> list[LabelledMail]:
    """Every message of `directory/part/*.txt`, in file order (en, es, … as sorted)."""
    mails: list[LabelledMail] = []
    for path in sorted((directory / part).glob("*.txt")):
        mails.extend(parse_blocks(path.read_text(encoding="utf-8")))
    return mails


def parse_blocks(text: str) -> list[LabelledMail]:
    mails = []
    for block in text.split("=== ")[1:]:
        header, _, rest = block.partition("\n")
        queue, _, variant = (part.strip() for part in header.partition("|"))
        subject_line, _, body = rest.partition("\n")
        if not subject_line.startswith("Subject:"):
            raise ValueError(f"block {header!r}: second line must be 'Subject: …'")
        mails.append(
            LabelledMail(queue, variant, subject_line[len("Subject:") :].strip(), body.strip())
        )
    return mails

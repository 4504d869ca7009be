"""Log lines: one per event (journald), JSON fields, and passwords masked whatever logged them."""

from __future__ import annotations

import json
import logging

from responder.service.logs import MASK, JsonFormatter, TextFormatter

SECRET = 'p$$ "w0rd" %s {0} \\n ü'


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("responder", logging.ERROR, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    return record


def test_text_is_one_line_with_the_secret_masked() -> None:
    line = TextFormatter([SECRET]).format(_record("login failed for %s\nsecond line", SECRET))
    assert "\n" not in line and SECRET not in line and MASK in line
    assert line.endswith("login failed for [secret]\\nsecond line")


def test_json_has_the_fields_and_masks_them_too() -> None:
    record = _record(
        "uid %d: acknowledge", 7, key="<a@b>", reference="K7Q2M9XA", queue="billing", reason=None
    )
    entry = json.loads(JsonFormatter([SECRET]).format(record))
    assert entry["message"] == "uid 7: acknowledge" and entry["level"] == "ERROR"
    assert (entry["key"], entry["reference"], entry["queue"]) == ("<a@b>", "K7Q2M9XA", "billing")
    assert "reason" not in entry
    leaky = json.loads(JsonFormatter([SECRET]).format(_record("x", queue=f"q {SECRET}")))
    assert SECRET not in json.dumps(leaky, ensure_ascii=False) and leaky["queue"] == f"q {MASK}"


def test_a_traceback_stays_on_one_line() -> None:
    try:
        raise ValueError(f"boom {SECRET}")
    except ValueError:
        import sys

        record = _record("failed")
        record.exc_info = sys.exc_info()
    text = TextFormatter([SECRET]).format(record)
    assert "\n" not in text and "ValueError: boom [secret]" in text
    entry = json.loads(JsonFormatter([SECRET]).format(record))
    assert "ValueError: boom [secret]" in entry["error"]


def test_a_malformed_library_call_still_gives_a_line() -> None:
    line = TextFormatter().format(_record("%s and %s", "only one"))
    assert "only one" in line and "\n" not in line

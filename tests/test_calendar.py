"""Business time: weekends, DST, public and regional holidays, lunch breaks, and the wording."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from responder.config import load
from responder.config.promises import PromisesConfig, calendar_spec, validate_promises
from responder.errors import ConfigError
from responder.pipeline.calendar import BusinessCalendar
from responder.pipeline.deadline import localized_deadline

BERLIN = ZoneInfo("Europe/Berlin")
WEEK = {day: ["09:00-12:00", "13:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}


def berlin(subdivision: str = "BE", **extra: object) -> BusinessCalendar:
    raw = {"timezone": "Europe/Berlin", "hours": WEEK, "holidays": "DE"} | extra
    if subdivision:
        raw["subdivision"] = subdivision
    return BusinessCalendar(calendar_spec("berlin", raw, "UTC"))


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


def test_friday_afternoon_plus_four_hours_is_monday_eleven_across_weekend_and_dst() -> None:
    # 27 March 2026 is the Friday before the clocks go forward (Sunday 29 March).
    due = berlin().add(local(2026, 3, 27, 15, 0), timedelta(hours=4))
    assert due.astimezone(BERLIN) == local(2026, 3, 30, 11, 0)
    assert due.astimezone(BERLIN).tzname() == "CEST"
    assert due == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)  # one hour less UTC offset than Friday
    assert localized_deadline(due, "en", "Europe/Berlin", due) == "Monday, March 30, 11:00 CEST"
    assert localized_deadline(due, "de", "Europe/Berlin", due) == "Montag, 30. März, 11:00 CEST"


def test_easter_is_skipped_good_friday_and_easter_monday() -> None:
    # Thursday 2 April 2026, 15:00: Good Friday, the weekend and Easter Monday are closed.
    due = berlin().add(local(2026, 4, 2, 15, 0), timedelta(hours=4))
    assert due.astimezone(BERLIN) == local(2026, 4, 7, 11, 0)


def test_regional_holiday_depends_on_the_state() -> None:
    # Corpus Christi (Thursday 4 June 2026) is a holiday in Bavaria, not in Berlin.
    start = local(2026, 6, 3, 15, 0)
    assert berlin("BE").add(start, timedelta(hours=4)).astimezone(BERLIN) == local(2026, 6, 4, 11)
    assert berlin("BY").add(start, timedelta(hours=4)).astimezone(BERLIN) == local(2026, 6, 5, 11)
    assert berlin("BY").holiday_name(date(2026, 6, 4)) == "Corpus Christi"


def test_lunch_break_and_closure_dates() -> None:
    calendar = berlin(closed=["2026-12-24"])
    assert calendar.add(local(2026, 3, 30, 11, 0), timedelta(hours=2)) == local(2026, 3, 30, 14, 0)
    assert not calendar.is_open(local(2026, 3, 30, 12, 30))
    assert calendar.is_open(local(2026, 3, 30, 13, 0))
    # Wed 23 Dec 16:00 + 2 h: Christmas Eve closed, 25/26 holidays, weekend → Monday 28, 10:00.
    assert calendar.add(local(2026, 12, 23, 16), timedelta(hours=2)) == local(2026, 12, 28, 10)


def test_starting_while_closed_counts_from_the_next_opening() -> None:
    calendar = berlin()
    assert calendar.add(local(2026, 3, 28, 22, 0), timedelta(hours=1)) == local(2026, 3, 30, 10)
    assert calendar.next_open(local(2026, 3, 30, 12, 15)) == local(2026, 3, 30, 13, 0)
    assert calendar.open_between(local(2026, 3, 27, 15), local(2026, 3, 30, 11)) == timedelta(
        hours=4
    )


def test_autumn_dst_day_is_measured_in_real_hours() -> None:
    # 25 October 2026: clocks go back. A 24/7 calendar adds real hours, not wall-clock ones.
    always = BusinessCalendar(
        calendar_spec(
            "x",
            {
                "timezone": "Europe/Berlin",
                "hours": {
                    d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
                },
            },
            "UTC",
        )
    )
    start = local(2026, 10, 25, 0, 0)
    due = always.add(start, timedelta(hours=4))
    assert due - start.astimezone(UTC) == timedelta(hours=4)
    assert due.astimezone(BERLIN).hour == 3  # 00:00 CEST + 4 h = 03:00 CET


def test_wording_in_six_languages_names_weekday_time_and_zone() -> None:
    due = local(2026, 3, 30, 11, 0)
    now = local(2026, 3, 27, 15, 0)
    texts = {
        lang: localized_deadline(due, lang, "Europe/Berlin", now)
        for lang in ("en", "es", "nl", "de", "fr", "pt")
    }
    assert texts == {
        "en": "Monday, March 30, 11:00 CEST",
        "es": "lunes, 30 de marzo, 11:00 CEST",
        "nl": "maandag 30 maart, 11:00 CEST",
        "de": "Montag, 30. März, 11:00 CEST",
        "fr": "lundi 30 mars, 11:00 CEST",
        "pt": "segunda-feira, 30 de março, 11:00 CEST",
    }
    next_year = localized_deadline(local(2027, 1, 4, 9), "en", "Europe/Berlin", now)
    assert next_year == "Monday, January 4, 2027, 09:00 CET"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"timezone": "Mars/Olympus"}, "promises.calendars.c.timezone"),
        ({"hours": {"mon": ["9-17"]}}, "promises.calendars.c.hours.mon"),
        ({"hours": {"mon": ["13:00-17:00", "09:00-12:00"]}}, "promises.calendars.c.hours.mon"),
        ({"hours": {"funday": ["09:00-17:00"]}}, "promises.calendars.c.hours.funday"),
        ({"holidays": "XX"}, "promises.calendars.c.holidays"),
        ({"holidays": "DE", "subdivision": "ZZ"}, "promises.calendars.c.subdivision"),
        ({"closed": ["tomorrow"]}, "promises.calendars.c.closed"),
    ],
)
def test_bad_calendars_name_the_key(raw: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_promises(PromisesConfig(calendars={"c": raw}), "UTC")
    assert caught.value.key == key


def test_calendars_load_from_toml_and_set_the_acknowledgment_deadline(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from responder.pipeline.decide import Pipeline

    path = tmp_path / "responder.toml"
    path.write_text(
        '[promises]\ncalendar = "berlin"\n'
        '[promises.calendars.berlin]\ntimezone = "Europe/Berlin"\nholidays = "DE"\n'
        'subdivision = "BE"\n'
        'hours = { mon = ["09:00-12:00", "13:00-17:00"], tue = ["09:00-12:00", "13:00-17:00"],'
        ' wed = ["09:00-17:00"], thu = ["09:00-17:00"], fri = ["09:00-12:00", "13:00-17:00"] }\n'
        '[promises.queues.billing]\nwindow = "4h"\n'
    )
    config = load(path, environ={})
    raw = Path("tests/fixtures/promise-billing.eml").read_bytes()
    decision = Pipeline(config).decide(raw, now=local(2026, 3, 27, 15, 0).astimezone(UTC))
    assert decision.queue == "billing"
    assert decision.respond_by == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
    assert decision.reply is not None
    assert "Monday, March 30, 11:00 CEST" in decision.reply.body
    assert "4 hours" not in decision.reply.body


def test_queue_and_priority_policies_override_the_defaults() -> None:
    from responder.config.promises import queue_policy

    config = PromisesConfig(
        calendar="",
        senior="Default Person",
        queues={
            "billing": {"window": "8h", "senior": "Maria Keller", "warn_at": 0.5},
            "priority": {"window": "2h", "after_hours": True},
        },
    )
    normal = queue_policy(config, "billing", False, timedelta(hours=4))
    assert (normal.window, normal.senior, normal.warn_at, normal.after_hours) == (
        timedelta(hours=8),
        "Maria Keller",
        0.5,
        False,
    )
    urgent = queue_policy(config, "billing", True, timedelta(hours=4))
    assert (urgent.window, urgent.after_hours, urgent.senior) == (
        timedelta(hours=2),
        True,
        "Maria Keller",
    )
    other = queue_policy(config, "orders", False, timedelta(hours=4))
    assert (other.window, other.calendar, other.senior) == (
        timedelta(hours=4),
        "always",
        "Default Person",
    )


def test_the_ladder_must_climb() -> None:
    with pytest.raises(ConfigError) as caught:
        validate_promises(PromisesConfig(warn_at=0.9, notify_at=0.5), "UTC")
    assert caught.value.key == "promises.notify_at"

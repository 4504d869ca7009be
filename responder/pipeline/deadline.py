"""Deadlines as customers read them: an absolute local date and time, in their language.

"within 4 hours" is only true when nothing closes in between; a promise made on Friday
afternoon is kept on Monday. So the acknowledgment names the moment ("Monday, March 30,
11:00 CEST"), with the weekday (people plan by weekday), the year only when it is not this
year's, a 24-hour clock in every locale, and the zone's abbreviation.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time

from responder.config import Config
from responder.config.duration import parse_duration
from responder.config.promises import QueuePolicy, calendars, queue_policy
from responder.pipeline.calendar import BusinessCalendar

_YEAR = re.compile(r"[\s,]*(?:'de'\s*)?y+(?:\s*'г'\.)?[.年]?")


@lru_cache(maxsize=64)
def _date_pattern(language: str, with_year: bool) -> str:
    pattern = str(Locale.parse(language).date_formats["full"].pattern)
    return pattern if with_year else _YEAR.sub("", pattern).strip(" ,")


def localized_deadline(moment: datetime, language: str, timezone: str, now: datetime) -> str:
    """ "Monday, March 30, 11:00 CEST", "lunes, 30 de marzo, 11:00 CEST", "Montag, 30. März, 11:00 CEST"."""
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    date = format_date(
        local, _date_pattern(language, local.year != now.astimezone(zone).year), locale=language
    )
    clock = format_time(local, "HH:mm", locale=language)
    glue = str(Locale.parse(language).datetime_formats["medium"])
    if "," not in glue:
        glue = "{1}, {0}"
    return glue.replace("{1}", str(date)).replace("{0}", str(clock)) + f" {local.tzname()}"


class Deadlines:
    """The promise for a queue: its policy, its calendar, its due moment (all from the config)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.calendars = {
            name: BusinessCalendar(spec)
            for name, spec in calendars(config.promises, config.reply.timezone).items()
        }

    def policy(self, queue: str, priority: bool) -> QueuePolicy:
        reply = self.config.reply
        window = parse_duration(reply.response_time.get(queue, reply.default_response_time))
        return queue_policy(self.config.promises, queue, priority, window)

    def calendar(self, policy: QueuePolicy) -> BusinessCalendar:
        return self.calendars[policy.calendar]

    def due(self, queue: str, priority: bool, now: datetime) -> tuple[datetime, QueuePolicy]:
        policy = self.policy(queue, priority)
        return self.calendar(policy).add(now, policy.window), policy

    def display_zone(self, policy: QueuePolicy) -> str:
        return self.calendar(policy).spec.timezone

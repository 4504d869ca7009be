"""Business time: when we are open, and what "4 business hours from now" means on a wall clock.

Pure (no clock of its own: every function takes the moment). Arithmetic is done on UTC
instants, never on local wall-clock times: two aware datetimes that share a ZoneInfo compare
and subtract as naive ones in Python, which would make a DST night an hour too long or short.
Each local period is turned into its UTC instants first, so 09:00–12:00 on the day the clocks
change is three real hours, and the deadline reads correctly in local time afterwards.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from responder.config.promises import CalendarSpec

MAX_DAYS = 3 * 366  # a window longer than this in business time is a configuration mistake


class BusinessCalendar:
    """Opening hours in one time zone, minus public holidays and closure dates."""

    def __init__(self, spec: CalendarSpec) -> None:
        self.spec = spec
        self.zone = ZoneInfo(spec.timezone)

    @cached_property
    def _holidays(self) -> Any:
        if not self.spec.country:
            return {}
        import holidays

        return holidays.country_holidays(
            self.spec.country, subdiv=self.spec.subdivision or None, language="en_US"
        )

    def closed_on(self, day: date) -> bool:
        """A public holiday or a closure date: closed all day, whatever the weekday's hours."""
        return day in self.spec.closed or day in self._holidays

    def holiday_name(self, day: date) -> str | None:
        if day in self.spec.closed:
            return "closed"
        name = self._holidays.get(day) if self.spec.country else None
        return str(name) if name else None

    def periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's open periods as UTC instants (empty when closed)."""
        if self.spec.hours is None or self.closed_on(day):
            return []
        found = []
        for start, end in self.spec.hours[day.weekday()]:
            begin = datetime.combine(day, start, tzinfo=self.zone).astimezone(UTC)
            if end == time.max:
                finish = datetime.combine(day + timedelta(days=1), time(), tzinfo=self.zone)
            else:
                finish = datetime.combine(day, end, tzinfo=self.zone)
            found.append((begin, finish.astimezone(UTC)))
        return found

    def is_open(self, moment: datetime) -> bool:
        if self.spec.hours is None:
            return True
        instant = moment.astimezone(UTC)
        local_day = instant.astimezone(self.zone).date()
        return any(begin <= instant < end for begin, end in self.periods(local_day))

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The moment `amount` of open time after `start` (UTC). Zero lands on the next opening
        if `start` is closed, so a promise is never due at a time nobody is there."""
        instant = start.astimezone(UTC)
        if self.spec.hours is None:
            return instant + amount
        remaining = amount
        day = instant.astimezone(self.zone).date() - timedelta(days=1)  # a period may span midnight
        for _ in range(MAX_DAYS):
            for begin, end in self.periods(day):
                if end <= instant:
                    continue
                begin = max(begin, instant)
                available = end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += timedelta(days=1)
        raise ValueError(
            f"calendar {self.spec.name}: no {amount} of open time within {MAX_DAYS} days"
        )

    def open_between(self, start: datetime, end: datetime) -> timedelta:
        """Open time between two instants: how much of a window has been used."""
        first, last = start.astimezone(UTC), end.astimezone(UTC)
        if last <= first:
            return timedelta(0)
        if self.spec.hours is None:
            return last - first
        total = timedelta(0)
        day = first.astimezone(self.zone).date() - timedelta(days=1)
        while day <= last.astimezone(self.zone).date():
            for begin, finish in self.periods(day):
                overlap = min(finish, last) - max(begin, first)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total

    def next_open(self, moment: datetime) -> datetime:
        """The moment itself when open, else the next opening."""
        return self.add(moment, timedelta(0))

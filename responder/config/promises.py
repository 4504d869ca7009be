"""Promises: business-hours calendars and the escalation ladder, as the admin writes them.

Kept apart from `config/__init__.py` because calendars are nested tables (hours per weekday
with breaks, holidays by country and subdivision, closure dates) that need their own parsing;
everything here is checked when the configuration is loaded, one line naming the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from responder.config.duration import parse_duration
from responder.errors import ConfigError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PERIOD = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
QUEUE_KEYS = ("window", "calendar", "warn_at", "notify_at", "update_at", "after_hours", "senior")


@dataclass(frozen=True)
class PromisesConfig:
    """What we promise, when we are open, and what happens before a promise is missed."""

    enabled: bool = True
    calendar: str = ""  # the default calendar; empty: always open, in reply.timezone
    calendars: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    queues: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    warn_at: float = 0.75
    notify_at: float = 0.90
    update_at: float = 0.95
    after_hours: bool = False
    supervisor: str = ""
    senior: str = ""
    update_window: str = ""  # empty: the original window again, counted from the old deadline
    agent_addresses: tuple[str, ...] = ()
    agent_domains: tuple[str, ...] = ()
    evidence_folders: tuple[str, ...] = ()
    check_interval: float = 60.0


@dataclass(frozen=True)
class CalendarSpec:
    """One calendar: `hours` is None for "always open"."""

    name: str
    timezone: str
    hours: tuple[tuple[tuple[time, time], ...], ...] | None  # per weekday, Monday first
    country: str = ""
    subdivision: str = ""
    closed: frozenset[date] = frozenset()


@dataclass(frozen=True)
class QueuePolicy:
    """The ladder of one queue (or of priority mail), every default filled in."""

    window: timedelta
    calendar: str
    warn_at: float
    notify_at: float
    update_at: float
    after_hours: bool
    senior: str


def always_open(timezone: str) -> CalendarSpec:
    return CalendarSpec("always", timezone, None)


def calendar_spec(name: str, raw: Mapping[str, Any], fallback_zone: str) -> CalendarSpec:
    key = f"promises.calendars.{name}"
    zone = str(raw.get("timezone", fallback_zone))
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{key}.timezone", f"unknown IANA time zone {zone!r}") from None
    unknown = sorted(set(raw) - {"timezone", "hours", "holidays", "subdivision", "closed"})
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}", "unknown key")
    hours_raw = raw.get("hours", {day: ["09:00-17:00"] for day in WEEKDAYS[:5]})
    if not isinstance(hours_raw, dict):
        raise ConfigError(f"{key}.hours", "must be a table of weekday = [periods]")
    bad_days = sorted(set(hours_raw) - set(WEEKDAYS))
    if bad_days:
        raise ConfigError(f"{key}.hours.{bad_days[0]}", f"not a weekday ({', '.join(WEEKDAYS)})")
    hours = tuple(_periods(f"{key}.hours.{day}", hours_raw.get(day, [])) for day in WEEKDAYS)
    if not any(hours):
        raise ConfigError(f"{key}.hours", "no opening hours on any day")
    country = str(raw.get("holidays", ""))
    subdivision = str(raw.get("subdivision", ""))
    if country:
        _check_holidays(key, country, subdivision)
    elif subdivision:
        raise ConfigError(f"{key}.subdivision", "needs holidays = <country code>")
    return CalendarSpec(name, zone, hours, country, subdivision, _dates(key, raw.get("closed", [])))


def _periods(key: str, raw: Any) -> tuple[tuple[time, time], ...]:
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ConfigError(key, 'expected a list like ["09:00-12:00", "13:00-17:00"]')
    periods: list[tuple[time, time]] = []
    for item in raw:
        match = _PERIOD.match(item)
        if match is None:
            raise ConfigError(key, f"not a period HH:MM-HH:MM: {item!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise ConfigError(key, f"not a time of day: {item!r}")
        start = time(h1, m1)
        end = time.max if h2 == 24 else time(h2, m2)
        if end <= start or (periods and start < periods[-1][1]):
            raise ConfigError(key, f"periods must be in order and not overlap: {item!r}")
        periods.append((start, end))
    return tuple(periods)


def _dates(key: str, raw: Any) -> frozenset[date]:
    if not isinstance(raw, list):
        raise ConfigError(f"{key}.closed", "expected a list of dates (YYYY-MM-DD)")
    found: set[date] = set()
    for item in raw:
        try:
            found.add(item if isinstance(item, date) else date.fromisoformat(str(item)))
        except ValueError:
            raise ConfigError(f"{key}.closed", f"not a date (YYYY-MM-DD): {item!r}") from None
    return frozenset(found)


def _check_holidays(key: str, country: str, subdivision: str) -> None:
    import holidays

    supported = holidays.list_supported_countries()
    if country not in supported:
        raise ConfigError(f"{key}.holidays", f"the holidays package has no country {country!r}")
    if subdivision and subdivision not in supported[country]:
        raise ConfigError(f"{key}.subdivision", f"{country} has no subdivision {subdivision!r}")


def calendars(config: PromisesConfig, fallback_zone: str) -> dict[str, CalendarSpec]:
    """Every configured calendar by name, plus "always" (open around the clock)."""
    found = {"always": always_open(fallback_zone)}
    for name, raw in config.calendars.items():
        found[name] = calendar_spec(name, raw, fallback_zone)
    if config.calendar and config.calendar not in found:
        raise ConfigError("promises.calendar", f"no calendar named {config.calendar!r}")
    return found


def queue_policy(
    config: PromisesConfig, queue: str, priority: bool, window: timedelta
) -> QueuePolicy:
    """The queue's own settings over the [promises] defaults; `priority` entries win for priority mail."""
    merged: dict[str, Any] = dict(config.queues.get(queue, {}))
    if priority:
        merged |= dict(config.queues.get("priority", {}))
    return QueuePolicy(
        window=parse_duration(str(merged["window"])) if "window" in merged else window,
        calendar=str(merged.get("calendar", config.calendar or "always")),
        warn_at=float(merged.get("warn_at", config.warn_at)),
        notify_at=float(merged.get("notify_at", config.notify_at)),
        update_at=float(merged.get("update_at", config.update_at)),
        after_hours=bool(merged.get("after_hours", config.after_hours)),
        senior=str(merged.get("senior", config.senior)),
    )


def validate_promises(config: PromisesConfig, fallback_zone: str) -> None:
    known = calendars(config, fallback_zone)
    for queue, raw in config.queues.items():
        key = f"promises.queues.{queue}"
        unknown = sorted(set(raw) - set(QUEUE_KEYS))
        if unknown:
            raise ConfigError(f"{key}.{unknown[0]}", "unknown key")
        if "window" in raw:
            try:
                parse_duration(str(raw["window"]))
            except ValueError as exc:
                raise ConfigError(f"{key}.window", str(exc)) from None
        if str(raw.get("calendar", "always")) not in known:
            raise ConfigError(f"{key}.calendar", f"no calendar named {raw['calendar']!r}")
        for step in ("warn_at", "notify_at", "update_at"):
            value = raw.get(step, 0.5)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{key}.{step}", f"expected a number, got {value!r}")
    for step in ("warn_at", "notify_at", "update_at"):
        if not 0 < getattr(config, step) < 1:
            raise ConfigError(f"promises.{step}", "must be a fraction of the window, 0..1")
    if not config.warn_at <= config.notify_at <= config.update_at:
        raise ConfigError(
            "promises.notify_at", "the ladder must climb: warn_at <= notify_at <= update_at"
        )
    if config.update_window:
        try:
            parse_duration(config.update_window)
        except ValueError as exc:
            raise ConfigError("promises.update_window", str(exc)) from None
    if config.supervisor and "@" not in config.supervisor:
        raise ConfigError("promises.supervisor", f"not an email address: {config.supervisor!r}")
    if config.check_interval < 1:
        raise ConfigError("promises.check_interval", "must be at least 1 second")

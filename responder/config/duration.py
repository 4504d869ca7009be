"""Durations as admins write them ("2h", "30m", "1d", "1h30m") for the promised response time."""

import re
from datetime import timedelta

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.IGNORECASE)
_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(text: str) -> timedelta:
    """Parse "2h", "45m", "1d", "1h30m"; raise ValueError with a readable message otherwise."""
    compact = text.replace(" ", "")
    parts = _PART.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"not a duration: {text!r} (write e.g. 2h, 30m, 1d, 1h30m)")
    seconds = sum(float(number) * _UNITS[unit.lower()] for number, unit in parts)
    if seconds <= 0:
        raise ValueError(f"duration must be positive: {text!r}")
    return timedelta(seconds=seconds)

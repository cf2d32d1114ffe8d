"""How the product writes days and times for people: the month in words (a day and a month can
never be swapped) and the office's zone, e.g. ``30 Nov 2026 02.41 WITA``. One format for every
screen: the officers' admin, the desk, the portal and the public pages."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from pengesahan.config import zone_label

__all__ = ["format_day", "format_moment", "office_day", "parse_day"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


def format_day(day: dt.date | None) -> str:
    """A date as ``2 Jan 2025``: month in words, so day and month cannot be swapped."""
    if day is None:
        return "-"
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def office_day(moment: dt.datetime, zone: str) -> dt.date:
    """The calendar day ``moment`` falls on in ``zone``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(ZoneInfo(zone)).date()


def format_moment(moment: dt.datetime | None, zone: str) -> str:
    """A stored time in the office's zone, e.g. ``30 Nov 2026 02.41 WITA``.

    Naive times are taken as UTC, as every stored time is.
    """
    if moment is None:
        return "-"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(ZoneInfo(zone))
    return f"{format_day(local.date())} {local:%H.%M} {zone_label(zone)}"


_DAY = re.compile(r"(\d{2})-(\d{2})-(\d{4})")


def parse_day(text: str) -> dt.date:
    """``dd-mm-yyyy`` and nothing else, as a date; ValueError (message in Indonesian) otherwise.

    No other order is guessed: ``2025-01-02`` or ``2-1-25`` are refused rather than read one
    way when the officer meant another.
    """
    match = _DAY.fullmatch(text.strip())
    if not match:
        raise ValueError("Tulis tanggal sebagai hh-bb-tttt, mis. 02-01-2025 untuk 2 Januari 2025.")
    day, month, year = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"Tanggal {text.strip()} tidak ada di kalender.") from None

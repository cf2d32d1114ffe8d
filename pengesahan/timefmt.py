"""How the product writes days and times for people: the month in words (a day and a month can
never be swapped) and the office's zone, e.g. ``30 Nov 2026 02.41 WITA``. One format for every
screen: the officers' admin, the desk, the portal and the public pages."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from pengesahan.config import zone_label

__all__ = ["format_day", "format_moment", "office_day"]

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

"""How the officers' screens write values and read them back: Indonesian, unambiguous.

Pure helpers first (times in the office's zone, dates, sizes, percentages, yes/no, and strict
``dd-mm-yyyy`` parsing), then what Flask-Admin plugs them into: type formatters for every
list and details page, column formatters for codes shown by their names, and form fields that
accept a date only in the one way an Indonesian officer writes it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from zoneinfo import ZoneInfo

from flask import g
from flask_admin.model import typefmt
from flask_babel import get_timezone
from markupsafe import Markup
from wtforms import fields, widgets
from wtforms.validators import DataRequired, Optional, StopValidation

from pengesahan.records.catalogue import DocumentType
from pengesahan.timefmt import format_day, format_moment, office_day, parse_day

__all__ = [
    "DETAIL_TYPE_FORMATTERS",
    "LIST_TYPE_FORMATTERS",
    "DayField",
    "MomentField",
    "ScopeField",
    "doc_type_name",
    "format_day",
    "format_moment",
    "format_percent",
    "format_size",
    "format_yes_no",
    "labelled",
    "office_day",
    "office_zone",
    "parse_day",
    "parse_moment",
    "percent",
    "size",
]



# --- pure helpers ----------------------------------------------------------------------------


def _decimal(value: float, places: int = 1) -> str:
    # Indonesian writes the decimal separator as a comma.
    return f"{value:.{places}f}".replace(".", ",")


def format_size(octets: int | None) -> str:
    """A file size as ``820 B``, ``12,4 KB`` or ``1,2 MB`` (1 KB = 1024 B)."""
    if octets is None:
        return "-"
    if octets < 1024:
        return f"{octets} B"
    if octets < 1024 * 1024:
        return f"{_decimal(octets / 1024)} KB"
    return f"{_decimal(octets / (1024 * 1024))} MB"


def format_percent(fraction: float | None) -> str:
    """A 0-1 fraction (a classifier's confidence) as a whole percentage, ``87%``."""
    if fraction is None:
        return "-"
    return f"{round(fraction * 100)}%"


def format_yes_no(value: bool | None) -> str:
    """``Ya`` or ``Tidak``."""
    if value is None:
        return "-"
    return "Ya" if value else "Tidak"


_MOMENT = re.compile(r"(\d{2})-(\d{2})-(\d{4})(?: (\d{2})\.(\d{2}))?")


def parse_moment(text: str, zone: str) -> dt.datetime:
    """``dd-mm-yyyy`` (00.00) or ``dd-mm-yyyy HH.MM`` in the office's zone, as a UTC time.

    ValueError (message in Indonesian) for anything else or an impossible date or time.
    """
    match = _MOMENT.fullmatch(text.strip())
    if not match:
        raise ValueError("Tulis sebagai hh-bb-tttt atau hh-bb-tttt jj.mm, mis. 02-01-2025 08.00.")
    day, month, year = (int(part) for part in match.groups()[:3])
    hour, minute = (int(part) if part else 0 for part in match.groups()[3:])
    try:
        local = dt.datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))
    except ValueError:
        raise ValueError(f"Tanggal atau jam {text.strip()} tidak ada di kalender.") from None
    return local.astimezone(dt.UTC)


# --- Flask-Admin: type and column formatters -----------------------------------------------


def office_zone() -> str:
    """The office's time zone name: Flask-Babel's (BABEL_DEFAULT_TIMEZONE, from the settings)."""
    return str(get_timezone())


def _moment_formatter(view, value, name) -> str:
    return format_moment(value, office_zone())


def _day_formatter(view, value, name) -> str:
    return format_day(value)


def _yes_no_formatter(view, value, name) -> str:
    return format_yes_no(value)


def _none_formatter(view, value, name) -> str:
    return Markup('<span class="text-muted">-</span>')


def _type_formatters(base: Mapping) -> dict:
    # datetime before date: a datetime is a date too, and the first isinstance match wins.
    ours = {type(None): _none_formatter, dt.datetime: _moment_formatter, dt.date: _day_formatter,
            bool: _yes_no_formatter}
    return ours | {kind: formatter for kind, formatter in base.items() if kind not in ours}


#: Every list page: times in the office zone, dates with the month in words, Ya/Tidak.
LIST_TYPE_FORMATTERS = _type_formatters(typefmt.BASE_FORMATTERS)
#: Every details page, likewise.
DETAIL_TYPE_FORMATTERS = _type_formatters(typefmt.DETAIL_FORMATTERS)

ColumnFormatter = Callable[..., object]


def labelled(labels: Mapping[str, str]) -> ColumnFormatter:
    """A column formatter showing a code by its label (unknown codes as they are)."""

    def show(view, context, model, name):
        code = getattr(model, name)
        if code is None or code == "":
            return "-"
        return labels.get(code, code)

    return show


def _doc_type_names() -> dict[str, str]:
    # One query per request, not one per row.
    if "doc_type_names" not in g:
        g.doc_type_names = {row.code: row.name for row in DocumentType.select(DocumentType.code,
                                                                                 DocumentType.name)}
    return g.doc_type_names


def doc_type_name(view, context, model, name):
    """Column formatter: a document-type code by the type's name (``-`` when empty)."""
    code = getattr(model, name)
    if not code:
        return "-"
    return _doc_type_names().get(code, code)


def size(view, context, model, name):
    """Column formatter: a size in bytes as B, KB or MB."""
    return format_size(getattr(model, name))


def percent(view, context, model, name):
    """Column formatter: a 0-1 fraction as a percentage."""
    return format_percent(getattr(model, name))


# --- form fields: one way to write a date ----------------------------------------------------


class DayField(fields.Field):
    """A date typed as ``dd-mm-yyyy``, parsed strictly (see :func:`parse_day`)."""

    widget = widgets.TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"placeholder": "hh-bb-tttt", "autocomplete": "off", "inputmode": "numeric"}
        render_kw.update(kwargs.pop("render_kw", None) or {})
        # The format hint replaces a model's help text: it is what the officer needs here.
        kwargs["description"] = "Format hh-bb-tttt, mis. 02-01-2025 untuk 2 Januari 2025."
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%d-%m-%Y") if self.data else ""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        self.data = None
        self.data = parse_day(valuelist[0])  # its ValueError becomes the field's error

    def pre_validate(self, form):
        _stop_after_parse_error(self)


class MomentField(fields.Field):
    """A time typed as ``dd-mm-yyyy`` or ``dd-mm-yyyy HH.MM`` in the office's zone; kept in UTC."""

    widget = widgets.TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"placeholder": "hh-bb-tttt jj.mm", "autocomplete": "off"}
        render_kw.update(kwargs.pop("render_kw", None) or {})
        kwargs["description"] = ("Format hh-bb-tttt atau hh-bb-tttt jj.mm (waktu kantor), "
                                 "mis. 02-01-2025 08.00.")
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if not self.data:
            return ""
        moment = self.data if self.data.tzinfo else self.data.replace(tzinfo=dt.UTC)
        return moment.astimezone(ZoneInfo(office_zone())).strftime("%d-%m-%Y %H.%M")

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        self.data = None
        self.data = parse_moment(valuelist[0], office_zone())  # ValueError: the field's error

    def pre_validate(self, form):
        _stop_after_parse_error(self)


def _stop_after_parse_error(field) -> None:
    # A value that could not be read has said why; "required" on top of it would only confuse.
    if field.process_errors:
        raise StopValidation()


class _CheckboxList(widgets.ListWidget):
    def __call__(self, field, **kwargs):
        kwargs.pop("class_", None)  # Flask-Admin's form-control would draw a box around the list
        kwargs["class"] = "list-unstyled mb-0"
        return super().__call__(field, **kwargs)


class _Checkbox(widgets.CheckboxInput):
    def __call__(self, field, **kwargs):
        # "required" on each box would make the browser demand every box; one is enough,
        # and the field checks that itself.
        kwargs["required"] = False
        return super().__call__(field, **kwargs)


class ScopeField(fields.SelectMultipleField):
    """Checkboxes over named codes, stored as one comma-separated text (an SK's scope)."""

    widget = _CheckboxList(prefix_label=False)
    option_widget = _Checkbox()

    def __init__(self, label=None, validators=None, **kwargs):
        # At least one box: the model's default would otherwise make an empty scope "optional".
        validators = [v for v in validators or () if not isinstance(v, Optional)] + [DataRequired()]
        super().__init__(label, validators, **kwargs)

    def process_data(self, value):
        if isinstance(value, str):
            value = [code.strip() for code in value.split(",") if code.strip()]
        super().process_data(value)

    def populate_obj(self, obj, name):
        setattr(obj, name, ",".join(self.data or []))

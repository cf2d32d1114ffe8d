"""The access rules of every admin screen, in one place.

Each view names the roles that may open it (``read_roles``) and those that may change its
records (``write_roles``); a P3MI's views are narrowed to its own company's rows.
"""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_admin import BaseView
from flask_admin.babel import domain as admin_domain
from flask_admin.contrib.peewee import ModelView
from flask_admin.contrib.peewee.form import CustomModelConverter
from flask_login import current_user
from flask_wtf import FlaskForm

from admin.formats import DETAIL_TYPE_FORMATTERS, LIST_TYPE_FORMATTERS, DayField, MomentField

OFFICE = frozenset({"admin", "pelaksana", "kabid", "sekdis", "kadin"})
REVIEWERS = frozenset({"admin", "pelaksana", "kabid"})
SIGNERS = frozenset({"kabid", "sekdis", "kadin"})
ADMIN = frozenset({"admin"})


class AccessRules:
    """Mixin deciding who may open and who may change a view."""

    read_roles: frozenset[str] = ADMIN
    write_roles: frozenset[str] = ADMIN

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and current_user.role in self.read_roles

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    def may_write(self) -> bool:
        return current_user.is_authenticated and current_user.role in self.write_roles


class SecureView(AccessRules, BaseView):
    """A custom admin page behind the access rules."""


class _AdminTranslations:
    """WTForms' messages through the admin catalogue: WTForms ships no Indonesian of its own."""

    def gettext(self, string):
        return admin_domain.get_translations().ugettext(string)

    def ngettext(self, singular, plural, n):
        return admin_domain.get_translations().ungettext(singular, plural, n)


class AdminForm(FlaskForm):
    """Every admin form: CSRF through Flask-WTF, validation messages in Indonesian."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return _AdminTranslations()


class DateFormConverter(CustomModelConverter):
    """Model forms labelled in Indonesian, with dates and times typed ``dd-mm-yyyy`` (``HH.MM``).

    Flask-Admin's own fields take ISO text behind a date picker; typed by hand, ``02-01-2025``
    was read as another day without a word.
    """

    def convert(self, model, field, field_args):
        # Form labels as on the list and details pages (Flask-Admin's peewee forms would show
        # the English field name).
        label = (self.view.column_labels or {}).get(field.name)
        if label:
            field_args = {"label": label, **(field_args or {})}
        return super().convert(model, field, field_args)

    def handle_date(self, model, field, **kwargs):
        return field.name, DayField(**kwargs)

    def handle_datetime(self, model, field, **kwargs):
        return field.name, MomentField(**kwargs)


#: Labels of the columns most models share, so no screen falls back to "Id" or "Created At".
_COMMON_LABELS = {"id": "No.", "created_at": "Dibuat"}


def attach_related(rows: list, path: list[str]) -> None:
    """Give each of ``rows`` the record its foreign key ``path[0]`` points to, read in one
    query, then go on along the rest of ``path`` from those records."""
    if not rows or not path:
        return
    name, rest = path[0], path[1:]
    field = getattr(type(rows[0]), name)
    ids = {getattr(row, field.column_name) for row in rows} - {None}
    key_name = field.rel_field.name
    related = {getattr(record, key_name): record
               for record in field.rel_model.select().where(field.rel_field.in_(ids))} if ids else {}
    for row in rows:
        key = getattr(row, field.column_name)
        if key in related:
            # Peewee keeps the instance as the relation's cached object; nothing is saved.
            row.__rel__[name] = related[key]
    attach_related(list(related.values()), rest)


#: Past any list's end at any page size, and an offset a 64-bit integer still holds.
_LAST_LIST_PAGE = 10**9


class SecureModelView(AccessRules, ModelView):
    """A model screen behind the access rules, in Indonesian: labels, values and messages."""

    form_base_class = AdminForm
    model_form_converter = DateFormConverter
    column_type_formatters = LIST_TYPE_FORMATTERS
    column_type_formatters_detail = DETAIL_TYPE_FORMATTERS
    can_view_details = True
    page_size = 50
    allow_create = True
    allow_edit = True
    allow_delete = False  # records are kept; statuses and revocation replace deletion

    @property
    def can_create(self) -> bool:
        return self.allow_create and self.may_write()

    @property
    def can_edit(self) -> bool:
        return self.allow_edit and self.may_write()

    @property
    def can_delete(self) -> bool:
        return self.allow_delete and self.may_write()

    #: Foreign keys the list shows ("dossier", or "dossier.candidate" for the CPMI its link
    #: names): each is read for the whole page in one query, not once per row.
    list_related: tuple[str, ...] = ()

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        # The page comes from the query string: far past the end it is an empty page, not an
        # offset the database's 64-bit integers cannot hold (a server error).
        page = min(page, _LAST_LIST_PAGE) if page else page
        count, rows = super().get_list(page, sort_column, sort_desc, search, filters, execute, page_size)
        if execute:
            for path in self.list_related:
                attach_related(rows, path.split("."))
        return count, rows

    def search_placeholder(self) -> str | None:
        # Flask-Admin's peewee backend leaves this to us (it would show "None").
        if not self.column_searchable_list:
            return None
        names = [self.get_column_name(str(getattr(column, "name", column)))
                 for column in self.column_searchable_list]
        return "Cari " + ", ".join(names)

    def __init__(self, model, *args, **kwargs):
        # Codes are shown by their names: every field declared with choices (statuses, roles,
        # kinds...) maps its code to its label on the list and details pages.
        self.column_labels = {**_COMMON_LABELS, **(self.column_labels or {})}
        if self.column_choices is None:
            self.column_choices = {field.name: list(field.choices) for field in model._meta.sorted_fields
                                   if field.choices}
        super().__init__(model, *args, **kwargs)

    _WRITE_ENDPOINTS = frozenset({"create_view", "edit_view", "delete_view", "ajax_update"})

    def get_one(self, record_id):
        # Ids come from the query string: anything that is not a database id is "not found".
        try:
            if not 0 < int(record_id) < 2**63:
                return None
        except (TypeError, ValueError):
            return None
        return super().get_one(record_id)

    def _handle_view(self, name, **kwargs):
        # Refuse writes at the endpoint too, not only by hiding the buttons. Actions check
        # their own rights (a read-only role may run a read-only action such as the chain check).
        result = super()._handle_view(name, **kwargs)
        if result is None and not self.may_write():
            if name in self._WRITE_ENDPOINTS or (request.method == "POST" and name != "action_view"):
                abort(403)
        return result


class CompanyScopedModelView(SecureModelView):
    """A model screen a P3MI may open, showing only its own company's rows."""

    def restrict_to_company(self, query, company_id: int):
        """Narrow ``query`` to rows of ``company_id``; each subclass says how."""
        raise NotImplementedError

    def get_query(self):
        query = super().get_query()
        if current_user.role == "p3mi":
            return self.restrict_to_company(query, current_user.company_id)
        return query

    def get_one(self, record_id):
        record = super().get_one(record_id)
        if record is not None and current_user.role == "p3mi":
            mine = self.restrict_to_company(self.model.select(), current_user.company_id)
            if not mine.where(self.model.id == record.id).exists():
                return None
        return record

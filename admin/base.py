"""The access rules of every admin screen, in one place.

Each view names the roles that may open it (``read_roles``) and those that may change its
records (``write_roles``); a P3MI's views are narrowed to its own company's rows.
"""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_admin import BaseView
from flask_admin.contrib.peewee import ModelView
from flask_login import current_user
from flask_wtf import FlaskForm

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


class SecureModelView(AccessRules, ModelView):
    """A model screen behind the access rules; CSRF through Flask-WTF like every form."""

    form_base_class = FlaskForm
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

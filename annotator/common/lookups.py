"""``field__any_of=values``: membership in a list of values sent as one parameter.

``field__in=values`` sends one placeholder per value. For the id lists of chunked jobs (500–100,000 ids) that costs
more than the query: Django prepares each value and builds each placeholder, and psycopg re-parses the long SQL (too
long for its statement cache). Long lists also meet parameter limits: SQLite's (32,766 in its default build) and,
with server-side binding, PostgreSQL's 65,535. ``any_of`` sends the whole list as one array (PostgreSQL: ``=
ANY(%s::type[])``) or one JSON text (SQLite: ``IN (SELECT value FROM json_each(%s))``), so its SQL is the same for
every list and no parameter limit applies.

Written here because Django has no such lookup (``django.contrib.postgres`` has array *columns*, not this) and it
is a dozen lines; registered on every field by ``CommonConfig.ready``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.db.models import IntegerField, Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False  # the whole list is the value: each element is prepared in get_db_prep_lookup

    def __init__(self, lhs, rhs):
        if hasattr(rhs, "resolve_expression") or not isinstance(rhs, Iterable) or isinstance(rhs, str | bytes):
            raise TypeError("any_of takes a list of values (use __in for a subquery)")
        super().__init__(lhs, list(rhs))

    def get_db_prep_lookup(self, value, connection):
        field = self.lhs.output_field
        target = getattr(field, "target_field", field)  # a foreign key's values are its target's
        if isinstance(target, IntegerField) and all(type(v) is int for v in value):
            return "%s", [value]  # ids as they come (chunks of 500 ids): Django's per-value preparation is the int
        return "%s", [[field.get_db_prep_value(v, connection, prepared=False) for v in value]]

    def as_sql(self, compiler, connection):  # SQLite (the embedded default) and any other backend with json_each
        lhs, lhs_params = self.process_lhs(compiler, connection)
        _rhs, (values,) = self.process_rhs(compiler, connection)
        return f"{lhs} IN (SELECT value FROM json_each(%s))", (*lhs_params, json.dumps(values))

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs}::{self.lhs.output_field.db_type(connection)}[])", (*lhs_params, *rhs_params)

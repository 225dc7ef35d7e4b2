"""Bulk row writes by PostgreSQL's binary COPY FROM STDIN, with a bulk_create fallback on other backends; bulk row
reads by binary COPY TO STDOUT, with a values_list fallback.

Binary, not text: the server takes each value as it is (length-prefixed) instead of scanning every character for
escapes and delimiters, and psycopg does not escape it either. Binary values must be in the exact wire format of
each column's type, so the types are read from the catalogue, not assumed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

from django.db import connection, models


@lru_cache(maxsize=32)
def _catalogue_types(database: str, table: str) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0", [table]
        )
        return {name: int(oid) for name, oid in cursor.fetchall()}


def column_types(table: str, columns: Sequence[str]) -> list[int]:
    """The type OIDs of ``columns`` of ``table`` (cached per database: a column's type changes only by a migration,
    and then the worker restarts with the new code)."""
    types = _catalogue_types(connection.settings_dict["NAME"], table)
    return [types[column] for column in columns]


def copy_rows(
    table: str, columns: Sequence[str], rows: Iterable[tuple], *, json_dumps: Callable[[Any], str] | None = None,
    utf8_text: bool = False,
) -> int:  # fmt: skip
    """COPY ``rows`` (tuples in ``columns`` order, database column names) into ``table``; returns the rows written.

    A constraint violation fails the whole COPY and raises Django's IntegrityError, as execute() would; call it
    inside a transaction (or savepoint) to leave nothing behind. ``json_dumps`` serialises json/jsonb values.
    ``utf8_text``: values of ``text`` columns may also be ``bytes`` already in UTF-8, sent as they are (the import's
    parser process encodes each article once, for its hash and token count, and sends those bytes)."""
    from psycopg.types.json import set_json_dumps

    quote = connection.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN (FORMAT BINARY)"
    types = column_types(table, columns)
    n = 0
    # wrap_database_errors: psycopg's own UniqueViolation becomes Django's IntegrityError, as for execute().
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if json_dumps is not None:
            set_json_dumps(json_dumps, context=cursor.cursor)
        if utf8_text:
            cursor.cursor.adapters.register_dumper(str, _utf8_text_dumper())
        with cursor.cursor.copy(sql) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)
                n += 1
    return n


@lru_cache(maxsize=1)
def _utf8_text_dumper():
    """psycopg's binary ``text`` dumper, also taking ``bytes`` that are UTF-8 already (made on first use: psycopg is
    imported only where a COPY runs)."""
    from psycopg.types.string import StrBinaryDumper

    class Utf8TextDumper(StrBinaryDumper):
        def dump(self, obj):
            return obj if type(obj) is bytes else super().dump(obj)

    return Utf8TextDumper


def rows_insert(model: type[models.Model], fields: Sequence[str], rows: list[tuple], *, batch_size: int = 2000) -> int:
    """Insert ``rows`` (tuples of ``fields``, the model's attnames such as ``article_id``) as new rows of ``model``:
    by binary COPY on PostgreSQL, by bulk_create elsewhere. COPY applies no field defaults and no ``auto_now``, so
    pass every non-null column (bulk_create still sets its ``auto_now`` fields to the time of the write)."""
    if not rows:
        return 0  # no round trip for nothing (a chunk without question models writes no answer counts)
    if connection.vendor == "postgresql":
        meta = model._meta
        return copy_rows(meta.db_table, [meta.get_field(name).column for name in fields], rows)
    model.objects.bulk_create([model(**dict(zip(fields, row, strict=True))) for row in rows], batch_size=batch_size)
    return len(rows)


def rows_read(rows: models.QuerySet, types: Sequence[str]) -> list[tuple]:
    """The tuples of a ``values_list`` queryset, read at the database's speed.

    On PostgreSQL the queryset's SQL runs as ``COPY (…) TO STDOUT (FORMAT BINARY)``: the server sends each value as
    it is stored and psycopg decodes the rows in C, without a cursor's per-row work (half the time of a fetch for
    500 texts of ~2 KB, docs/benchmarks.md § Scoring throughput). COPY takes no parameters, so psycopg binds them
    client-side. ``types`` names the PostgreSQL type of each column (``"bigint"``, ``"text"``, ``"integer"``), as
    the binary format needs them. Elsewhere the queryset is read as it is."""
    if connection.vendor != "postgresql":
        return list(rows)
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor, connection.wrap_database_errors:
        with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT BINARY)", params) as copy:
            copy.set_types(list(types))
            return list(copy.rows())

"""PostgreSQL: compress Article.text with lz4 instead of pglz (about 2x faster imports; no model change).

Articles of ~400 words exceed the TOAST threshold, so every insert compresses the text; pglz makes that the
bottleneck of a bulk import. lz4 needs PostgreSQL ≥ 14 built with lz4 (Debian's is); elsewhere this is a no-op.
"""

from django.db import DatabaseError, migrations, transaction


def use_lz4(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql" or connection.pg_version < 140000:
        return
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("ALTER TABLE corpus_article ALTER COLUMN text SET COMPRESSION lz4")
    except DatabaseError:  # PostgreSQL built without lz4: keep the default compression
        pass


def use_default(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if connection.vendor == "postgresql" and connection.pg_version >= 140000:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE corpus_article ALTER COLUMN text SET COMPRESSION default")


class Migration(migrations.Migration):
    dependencies = [("corpus", "0001_initial")]

    operations = [migrations.RunPython(use_lz4, use_default)]

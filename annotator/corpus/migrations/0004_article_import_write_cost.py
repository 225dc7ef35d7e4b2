"""Cheaper article writes: drop the indexes no query uses; PostgreSQL keeps articles under ~8 KB inline.

- ``content_hash`` (and its ``varchar_pattern_ops`` twin on PostgreSQL): the hash is only ever looked up with
  its outlet, which the partial unique index ``article_unique_outlet_content`` serves.
- ``outlet``: every index on the table that a query by outlet could use already starts with ``outlet_id``.

PostgreSQL only: ``toast_tuple_target = 8160`` (the maximum). By default a row over ~2 KB (every article of a
few hundred words) is first compressed and, if still too large, moved to the TOAST table in ~2 KB chunks, each
with an entry in the TOAST index: for news text that costs more server CPU than the rest of the row. With the
target at 8160 a row up to ~8 KB is stored as it is, in the table's own page; longer texts are compressed
(lz4, migration 0002) and toasted as before. The text is stored byte for byte either way; the price is disk
space (short articles are not compressed). See docs/importing.md, PostgreSQL storage.
"""

import django.db.models.deletion
from django.db import migrations, models


def keep_short_rows_inline(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE corpus_article SET (toast_tuple_target = 8160)")


def default_toast_target(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE corpus_article RESET (toast_tuple_target)")


class Migration(migrations.Migration):
    dependencies = [("corpus", "0003_article_signature")]

    operations = [
        migrations.AlterField(
            model_name="article",
            name="content_hash",
            field=models.CharField(max_length=64),
        ),
        migrations.AlterField(
            model_name="article",
            name="outlet",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="articles",
                to="corpus.outlet",
            ),
        ),
        migrations.RunPython(keep_short_rows_inline, default_toast_target),
    ]

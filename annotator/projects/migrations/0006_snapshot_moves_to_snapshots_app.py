# The Snapshot model moves to the snapshots app (annotator/snapshots), which sits above scoring. The table and its
# rows stay: renamed to the new app's name here, while the snapshots app's 0001_initial takes the model into its
# state without touching the database.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0005_corpus_grant"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.AlterModelTable(name="snapshot", table="snapshots_snapshot")],
            state_operations=[migrations.DeleteModel(name="Snapshot")],
        ),
    ]

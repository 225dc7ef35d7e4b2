from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("annotations", "0004_span_merge_duplicates")]

    operations = [
        migrations.AddConstraint(
            model_name="span",
            constraint=models.UniqueConstraint(
                condition=models.Q(("layer", "annotator")),
                fields=("annotator", "article", "label", "start_char", "end_char"),
                name="span_annotator_unique",
            ),
        ),
    ]

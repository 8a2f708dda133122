from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built concurrently: the transcripts table is the largest there is, and ingest keeps writing to it.
    atomic = False

    dependencies = [
        ("memory", "0009_hnsw_m24_ef128"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="transcript",
            index=models.Index(
                condition=models.Q(("reply_to_author_id", ""), _negated=True),
                fields=["reply_to_author_id", "author_id"],
                name="memory_tx_reply_author",
            ),
        ),
    ]

"""HNSW indexes rebuilt with m=24 and ef_construction=128 (were pgvector's defaults, 16 and 64).

In place and without blocking writes: each index's build parameters are changed, then it is rebuilt
with REINDEX CONCURRENTLY (searches keep using the old index until the new one is ready), which is why
this migration is not atomic. Over a million rows one rebuild takes about as long as building it anew
(docs/benchmarks.md, "Vector search").
"""

from django.db import migrations
from pgvector.django.indexes import HnswIndex

INDEXES = (
    ("archiveentry", "memory_archive_hnsw"),
    ("epoch", "memory_epoch_hnsw"),
    ("fact", "memory_fact_hnsw"),
    ("grouplore", "memory_lore_hnsw"),
    ("highlight", "memory_highlight_hnsw"),
)


def _rebuild(name: str, m: int, ef_construction: int) -> list[str]:
    # Two statements sent one by one: REINDEX CONCURRENTLY may not share a transaction with anything.
    return [
        f"ALTER INDEX {name} SET (m = {m}, ef_construction = {ef_construction})",
        f"REINDEX INDEX CONCURRENTLY {name}",
    ]


def _index(name: str, m: int, ef_construction: int) -> HnswIndex:
    return HnswIndex(
        name=name, fields=["embedding"], m=m, ef_construction=ef_construction, opclasses=["vector_cosine_ops"]
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("memory", "0008_transcript_guild_author"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                operation
                for model, name in INDEXES
                for operation in (
                    migrations.RemoveIndex(model_name=model, name=name),
                    migrations.AddIndex(model_name=model, index=_index(name, 24, 128)),
                )
            ],
            database_operations=[
                migrations.RunSQL(sql=_rebuild(name, 24, 128), reverse_sql=_rebuild(name, 16, 64))
                for _, name in INDEXES
            ],
        ),
    ]

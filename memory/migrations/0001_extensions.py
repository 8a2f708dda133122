"""Create the PostgreSQL extensions every later memory table relies on: pgvector and pg_trgm."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations
from pgvector.django import VectorExtension


class Migration(migrations.Migration):
    initial = True

    dependencies: list[tuple[str, str]] = []

    operations = [VectorExtension(), TrigramExtension()]

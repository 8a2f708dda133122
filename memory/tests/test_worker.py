"""A real Celery worker runs the archive trigger and embeds new transcripts off the reply path."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from memory.models import ArchiveEntry
from memory.tests.factories import TranscriptFactory
from memory.triggers import ARCHIVE_TRIGGER
from reactor.choices import TriggerStatus
from reactor.models import Trigger
from reactor.services import schedule
from reactor.tasks import run_trigger

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_archives_and_embeds_what_ingest_stored():
    TranscriptFactory.create_batch(3)
    db = connection.settings_dict
    database_url = f"postgresql://{db['USER']}@/{db['NAME']}?host={db['HOST']}&port={db['PORT']}"
    queue = f"memory-test-{uuid.uuid4().hex[:8]}"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "dit_project",
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "REDIS_URL": settings.REDIS_URL},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        trigger_id = schedule(ARCHIVE_TRIGGER, due_at=None)
        # As the dispatcher sends it: enqueued, the trigger's id as the task id.
        Trigger.objects.filter(pk=trigger_id).update(status=TriggerStatus.ENQUEUED)
        run_trigger.apply_async(args=(str(trigger_id),), task_id=str(trigger_id), queue=queue)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if ArchiveEntry.objects.filter(embedding__isnull=False).count() == 3:
                break
            assert worker.poll() is None, worker.stdout.read().decode() if worker.stdout else ""
            time.sleep(0.5)
        embedded = list(ArchiveEntry.objects.values_list("embedding_model", flat=True))
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert embedded == ["sentence-transformers/all-MiniLM-L6-v2"] * 3
    assert Trigger.objects.get(pk=trigger_id).status == TriggerStatus.DONE

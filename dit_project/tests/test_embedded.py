"""The embedded services start idempotently, are reused, and keep their data across a stop."""

from typing import Any, cast

import psycopg
import pytest
import redis

from dit_project import embedded


@pytest.fixture
def home(tmp_path):
    folder = tmp_path / "dit-home"
    yield folder
    embedded.stop_redis(folder)
    embedded.stop_postgres(folder)


def test_postgres_start_is_idempotent_and_keeps_data_across_a_stop(home):
    first = embedded.start_postgres(home)
    with psycopg.connect(first.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (value text)")
        conn.execute("INSERT INTO kept VALUES ('still here')")
        extensions = {row[0] for row in conn.execute("SELECT name FROM pg_available_extensions")}
        shared_buffers = conn.execute("SELECT pg_size_bytes(current_setting('shared_buffers'))").fetchone()
    second = embedded.start_postgres(home)

    assert second == first
    assert {"vector", "pg_trgm"} <= extensions
    # A data folder made by this start was restarted once to run with the project's tuning.
    tuned_mb = int(embedded.postgres_tuning()["shared_buffers"].removesuffix("MB"))
    assert shared_buffers == (tuned_mb * 1024 * 1024,)

    assert embedded.stop_postgres(home) is True
    assert embedded.postgres_running(home) is False
    assert embedded.stop_postgres(home) is False

    restarted = embedded.start_postgres(home)
    with psycopg.connect(restarted.url) as conn:
        assert conn.execute("SELECT value FROM kept").fetchall() == [("still here",)]


def test_redis_start_is_idempotent_and_keeps_data_across_a_stop(home):
    url = embedded.start_redis(home)
    client = redis.Redis.from_url(url)
    client.set("dit:embedded-test", "kept")
    pid = cast(dict[str, Any], client.info())["process_id"]

    assert embedded.start_redis(home) == url
    assert cast(dict[str, Any], client.info())["process_id"] == pid

    assert embedded.stop_redis(home) is True
    assert embedded.redis_running(home) is False

    url_after = embedded.start_redis(home)
    assert redis.Redis.from_url(url_after).get("dit:embedded-test") == b"kept"


def test_status_reports_each_service(home):
    embedded.start_redis(home)

    report = {status.name: status.running for status in embedded.status(home)}

    assert report == {"postgres": False, "redis": True}


@pytest.mark.parametrize(
    ("memory_mb", "shared_buffers"),
    [(0, "128MB"), (256, "128MB"), (2048, "512MB"), (8192, "2048MB"), (65536, "4096MB")],
)
def test_postgres_tuning_gives_a_quarter_of_memory_to_shared_buffers_within_bounds(memory_mb, shared_buffers):
    assert embedded.postgres_tuning(memory_mb * 1024 * 1024) == {"shared_buffers": shared_buffers}


def test_tuning_is_included_once_and_alter_system_still_wins(home):
    address = embedded.start_postgres(home)
    with psycopg.connect(address.url, autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET shared_buffers = '48MB'")
    embedded.stop_postgres(home)

    embedded.start_postgres(home)

    conf = (home / "pg" / "postgresql.conf").read_text()
    assert conf.count(f"include_if_exists = '{embedded.TUNING_FILE}'") == 1
    with psycopg.connect(address.url) as conn:
        assert conn.execute("SHOW shared_buffers").fetchone() == ("48MB",)

"""Reject UPDATE of reactor events in the database itself: the event log only grows."""

from django.db import migrations

GUARD = """
CREATE FUNCTION reactor_reject_event_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'reactor events are append-only; emit a new event instead'
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER reactor_event_append_only BEFORE UPDATE ON reactor_reactorevent
    FOR EACH ROW EXECUTE FUNCTION reactor_reject_event_update();
"""

DROP = """
DROP TRIGGER IF EXISTS reactor_event_append_only ON reactor_reactorevent;
DROP FUNCTION IF EXISTS reactor_reject_event_update();
"""


class Migration(migrations.Migration):
    dependencies = [("reactor", "0001_initial")]

    operations = [migrations.RunSQL(sql=GUARD, reverse_sql=DROP)]

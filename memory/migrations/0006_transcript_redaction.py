"""Let forget-me redact transcripts: UPDATE is allowed only while `dit.transcript_redaction` is on.

Transcripts stay immutable otherwise. `memory.forgetting.forget_member` sets the flag for its own
transaction (SET LOCAL semantics), rewrites the member's rows, and switches it off again; DELETE still
needs the retention flag, as before.
"""

from django.db import migrations

GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION memory_reject_transcript_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('dit.transcript_retention', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION '% rows are deleted only by the retention service', TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation',
                  HINT = 'call memory.services.purge_transcripts';
    END IF;
    IF current_setting('dit.transcript_redaction', true) = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% rows are immutable; an edit is recorded as a new revision', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation',
              HINT = 'ingest the edited message with memory.ingest.ingest_message';
END
$$;
"""

PREVIOUS_FUNCTION = """
CREATE OR REPLACE FUNCTION memory_reject_transcript_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('dit.transcript_retention', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION '% rows are deleted only by the retention service', TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation',
                  HINT = 'call memory.services.purge_transcripts';
    END IF;
    RAISE EXCEPTION '% rows are immutable; an edit is recorded as a new revision', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation',
              HINT = 'ingest the edited message with memory.ingest.ingest_message';
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("memory", "0005_memory_layers")]

    operations = [migrations.RunSQL(sql=GUARD_FUNCTION, reverse_sql=PREVIOUS_FUNCTION)]

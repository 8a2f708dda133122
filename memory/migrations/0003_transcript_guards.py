"""Make transcripts immutable in the database itself, beside the model-level guard.

Every UPDATE of a transcript or revision row is rejected. DELETE is rejected too, unless the deleting
transaction has set `dit.transcript_retention` to 'on' (SET LOCAL), which only
`memory.services.purge_transcripts` does. TRUNCATE is left alone: it is how test databases are reset.
"""

from django.db import migrations

GUARD_FUNCTION = """
CREATE FUNCTION memory_reject_transcript_change() RETURNS trigger LANGUAGE plpgsql AS $$
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

TRIGGERS = """
CREATE TRIGGER memory_transcript_immutable BEFORE UPDATE OR DELETE ON memory_transcript
    FOR EACH ROW EXECUTE FUNCTION memory_reject_transcript_change();
CREATE TRIGGER memory_revision_immutable BEFORE UPDATE OR DELETE ON memory_transcriptrevision
    FOR EACH ROW EXECUTE FUNCTION memory_reject_transcript_change();
"""

DROP = """
DROP TRIGGER IF EXISTS memory_revision_immutable ON memory_transcriptrevision;
DROP TRIGGER IF EXISTS memory_transcript_immutable ON memory_transcript;
DROP FUNCTION IF EXISTS memory_reject_transcript_change();
"""


class Migration(migrations.Migration):
    dependencies = [("memory", "0002_transcripts")]

    operations = [migrations.RunSQL(sql=GUARD_FUNCTION + TRIGGERS, reverse_sql=DROP)]

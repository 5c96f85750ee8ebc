"""document versions and blobs are immutable in PostgreSQL itself

A version is the record of what was stored: its number, content (blob, hash, size, type), author
and time never change after it is written, whatever the application does. Its download counters
are the only columns that move, and its file name and comment stay editable (an erasure request
may have to scrub them). A blob row's content hash, size and organization never change either;
its storage key and purge mark may (the object is moved or purged, never altered).

Like the audit log's trigger, the refusal is PostgreSQL's, with SQLSTATE 42501.

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# table -> the columns no UPDATE may change
IMMUTABLE = {
    "document_version": ("id", "organization_id", "document_id", "version_number", "blob_id", "content_hash",
                         "file_size", "content_type", "created_by", "created_at"),
    "blob": ("id", "organization_id", "sha256", "size"),
}


def upgrade() -> None:
    op.execute("""
        CREATE FUNCTION refuse_immutable_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% rows are immutable: % may not change', TG_TABLE_NAME, TG_ARGV[0]
                USING ERRCODE = 'insufficient_privilege';
        END $$;
    """)
    for table, columns in IMMUTABLE.items():
        # The WHEN clause keeps counter updates free of any function call.
        changed = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in columns)
        op.execute(f"""
            CREATE TRIGGER {table}_immutable BEFORE UPDATE OF {", ".join(columns)} ON {table}
            FOR EACH ROW WHEN ({changed})
            EXECUTE FUNCTION refuse_immutable_change('{", ".join(columns)}');
        """)


def downgrade() -> None:
    for table in IMMUTABLE:
        op.execute(f"DROP TRIGGER {table}_immutable ON {table}")
    op.execute("DROP FUNCTION refuse_immutable_change()")

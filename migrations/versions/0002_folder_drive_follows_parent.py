"""a folder is in its parent's drive

The access evaluation reads a folder's drive (department_id, owner_type, owner_id) from the
folder itself rather than from the root of its path. createFolder copies the parent's and a move
rewrites the moved subtree's; this revision aligns any existing row with its root and makes
PostgreSQL refuse, at commit, a folder whose drive differs from its parent's.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The trigger below looks up a folder's children.
    op.create_index(op.f('ix_folder_parent_id'), 'folder', ['parent_id'], unique=False)
    op.execute("""
        UPDATE folder f
        SET department_id = root.department_id, owner_type = root.owner_type, owner_id = root.owner_id
        FROM folder root
        WHERE root.id = f.path[1] AND f.parent_id IS NOT NULL
          AND (f.department_id IS DISTINCT FROM root.department_id
               OR f.owner_type IS DISTINCT FROM root.owner_type OR f.owner_id IS DISTINCT FROM root.owner_id)
    """)
    # The row as it is at commit (a deferred event's NEW may be an older version of it), against
    # its parent and its children: two index probes.
    op.execute("""
        CREATE FUNCTION folder_drive_follows_parent() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            me folder;
        BEGIN
            SELECT * INTO me FROM folder WHERE id = NEW.id;
            IF NOT FOUND THEN
                RETURN NULL;
            END IF;
            IF EXISTS (
                SELECT 1 FROM folder parent WHERE parent.id = me.parent_id
                  AND (parent.department_id, parent.owner_type, parent.owner_id)
                      IS DISTINCT FROM (me.department_id, me.owner_type, me.owner_id)
            ) OR EXISTS (
                SELECT 1 FROM folder child WHERE child.parent_id = me.id
                  AND (child.department_id, child.owner_type, child.owner_id)
                      IS DISTINCT FROM (me.department_id, me.owner_type, me.owner_id)
            ) THEN
                RAISE EXCEPTION 'folder % is not in its parent''s drive', me.id
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_folder_drive_follows_parent';
            END IF;
            RETURN NULL;
        END $$;
    """)
    # Checked at commit: a move rewrites a whole subtree in one statement, parents and children
    # in no particular order.
    op.execute("""
        CREATE CONSTRAINT TRIGGER folder_drive_follows_parent
        AFTER INSERT OR UPDATE OF parent_id, department_id, owner_type, owner_id ON folder
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION folder_drive_follows_parent();
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER folder_drive_follows_parent ON folder")
    op.execute("DROP FUNCTION folder_drive_follows_parent()")
    op.drop_index(op.f('ix_folder_parent_id'), table_name='folder')

"""upload sessions record their progress, so abandoned ones are reclaimed before they expire

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('upload_session', sa.Column('active_at', sa.DateTime(timezone=True),
                                              server_default=sa.text('now()'), nullable=False))
    op.add_column('upload_session', sa.Column('received_bytes', sa.BigInteger(), server_default='0',
                                              nullable=False))


def downgrade() -> None:
    op.drop_column('upload_session', 'received_bytes')
    op.drop_column('upload_session', 'active_at')

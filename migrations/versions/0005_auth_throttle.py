"""throttling counters per window instead of a row per failed sign-in

`auth_throttle` counts unauthenticated attempts per (account, address) and per address in
fixed windows, one row per window updated in place (services/throttle.py); `login_failure`
(a row per failure, counted per account from anywhere) goes.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'auth_throttle',
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=400), nullable=False),
        sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('refused', sa.Integer(), nullable=False),
        sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column('ip_address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('last_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('scope', 'key', 'window_start'),
    )
    op.drop_index('ix_login_failure_ip', table_name='login_failure')
    op.drop_index('ix_login_failure_email', table_name='login_failure')
    op.drop_table('login_failure')


def downgrade() -> None:
    op.create_table(
        'login_failure',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('ip_address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('failed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_login_failure_email', 'login_failure', ['email', 'failed_at'], unique=False)
    op.create_index('ix_login_failure_ip', 'login_failure', ['ip_address', 'failed_at'], unique=False)
    op.drop_table('auth_throttle')

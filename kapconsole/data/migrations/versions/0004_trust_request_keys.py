"""entries carry the client's request key (a UUID) under a unique constraint: retries never duplicate

Revision ID: trust_1
Revises: monitor_1
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa

revision = "trust_1"
down_revision = "monitor_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN and a unique index: no table rebuild on SQLite (entries may hold millions of rows).
    op.add_column("entries", sa.Column("request_key", sa.String(length=36), nullable=True))
    op.create_index("ix_entries_request_key", "entries", ["request_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_entries_request_key", table_name="entries")
    op.drop_column("entries", "request_key")

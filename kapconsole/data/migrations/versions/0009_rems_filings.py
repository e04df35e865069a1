"""esketamine REMS: monitoring forms marked as submitted

Revision ID: rems_1
Revises: safety_1
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op


revision = "rems_1"
down_revision = "safety_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rems_filings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("confirmation", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["recorded_by"], ["staff.id"], name=op.f("fk_rems_filings_recorded_by_staff")),
        sa.ForeignKeyConstraint(["session_id"], ["clinical_sessions.id"],
                                name=op.f("fk_rems_filings_session_id_clinical_sessions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rems_filings")),
        sa.UniqueConstraint("session_id", name=op.f("uq_rems_filings_session_id")),
    )


def downgrade() -> None:
    op.drop_table("rems_filings")

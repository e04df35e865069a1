"""the latest entry time of each session (clock check); sessions awaiting an attestation

Revision ID: safety_1
Revises: frontdesk_1
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "safety_1"
down_revision = "frontdesk_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clinical_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_entered_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("needs_attestation", sa.Boolean(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("clinical_sessions", schema=None) as batch_op:
        batch_op.drop_column("needs_attestation")
        batch_op.drop_column("last_entered_at")

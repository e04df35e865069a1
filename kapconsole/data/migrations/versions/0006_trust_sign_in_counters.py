"""failed sign-ins counted per login and workstation (row-locked counters)

Revision ID: trust_3
Revises: trust_2
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "trust_3"
down_revision = "trust_2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("workstation", sa.String(length=128), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("login", "workstation", name=op.f("pk_sign_in_failures")),
    )


def downgrade() -> None:
    op.drop_table("sign_in_failures")

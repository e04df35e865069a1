"""bedside monitor capture: device table, received messages, the reading stream, its digests, reviews

Revision ID: monitor_1
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op


revision = "monitor_1"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitor_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("room", sa.String(length=64), nullable=False),
        sa.Column("identity_kind", sa.String(length=16), nullable=False),
        sa.Column("identity", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("clock_offset_threshold", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("last_message_at", sa.DateTime(), nullable=True),
        sa.Column("last_clock_offset", sa.Float(), nullable=True),
        sa.Column("last_peer", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"], name=op.f("fk_monitor_devices_created_by_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_devices")),
        sa.UniqueConstraint("name", name=op.f("uq_monitor_devices_name")),
    )
    with op.batch_alter_table("monitor_devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitor_devices_room"), ["room"], unique=False)

    op.create_table(
        "monitor_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("source_key", sa.String(length=250), nullable=False),
        sa.Column("control_id", sa.String(length=200), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("room", sa.String(length=64), nullable=False),
        sa.Column("sender", sa.String(length=250), nullable=False),
        sa.Column("peer", sa.String(length=128), nullable=False),
        sa.Column("readings", sa.Integer(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["monitor_devices.id"],
                                name=op.f("fk_monitor_messages_device_id_monitor_devices")),
        sa.ForeignKeyConstraint(["session_id"], ["clinical_sessions.id"],
                                name=op.f("fk_monitor_messages_session_id_clinical_sessions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_messages")),
        sa.UniqueConstraint("source_key", "control_id", name="uq_monitor_messages_source_control"),
    )
    with op.batch_alter_table("monitor_messages", schema=None) as batch_op:
        batch_op.create_index("ix_monitor_messages_unassigned", ["session_id", "id"], unique=False)

    op.create_table(
        "monitor_readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("room", sa.String(length=64), nullable=False),
        sa.Column("source_key", sa.String(length=250), nullable=False),
        sa.Column("measure", sa.String(length=16), nullable=True),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("code_system", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("value_text", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=4), nullable=False),
        sa.Column("flags", sa.String(length=200), nullable=False),
        sa.Column("device_time", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("suspect", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["monitor_devices.id"],
                                name=op.f("fk_monitor_readings_device_id_monitor_devices")),
        sa.ForeignKeyConstraint(["message_id"], ["monitor_messages.id"],
                                name=op.f("fk_monitor_readings_message_id_monitor_messages")),
        sa.ForeignKeyConstraint(["session_id"], ["clinical_sessions.id"],
                                name=op.f("fk_monitor_readings_session_id_clinical_sessions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_readings")),
        sa.UniqueConstraint("source_key", "code", "code_system", "device_time", "status",
                            name="uq_monitor_readings_dedupe"),
    )
    with op.batch_alter_table("monitor_readings", schema=None) as batch_op:
        batch_op.create_index("ix_monitor_readings_session", ["session_id", "id"], unique=False)
        batch_op.create_index("ix_monitor_readings_session_measure", ["session_id", "measure", "id"], unique=False)
        batch_op.create_index("ix_monitor_readings_source_measure", ["source_key", "measure", "id"], unique=False)

    op.create_table(
        "monitor_digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_reading_id", sa.Integer(), nullable=False),
        sa.Column("last_reading_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_digests")),
    )

    op.create_table(
        "monitor_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reading_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["staff.id"], name=op.f("fk_monitor_reviews_actor_id_staff")),
        sa.ForeignKeyConstraint(["entry_id"], ["entries.id"], name=op.f("fk_monitor_reviews_entry_id_entries")),
        sa.ForeignKeyConstraint(["reading_id"], ["monitor_readings.id"],
                                name=op.f("fk_monitor_reviews_reading_id_monitor_readings")),
        sa.ForeignKeyConstraint(["session_id"], ["clinical_sessions.id"],
                                name=op.f("fk_monitor_reviews_session_id_clinical_sessions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_reviews")),
        sa.UniqueConstraint("reading_id", name=op.f("uq_monitor_reviews_reading_id")),
    )
    with op.batch_alter_table("monitor_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitor_reviews_session_id"), ["session_id"], unique=False)


def downgrade() -> None:
    op.drop_table("monitor_reviews")
    op.drop_table("monitor_digests")
    op.drop_table("monitor_readings")
    op.drop_table("monitor_messages")
    op.drop_table("monitor_devices")

"""signing keys, the session header in the chain, the clinic-wide chain and the chained audit trail

Existing sessions keep their chains (their genesis stays all zeros: their hashes cannot be rewritten without
destroying what they prove). What can be recorded now is: each session's header as it reads today, and one
"recorded at upgrade" event per session in the clinic-wide chain with its state, entry count and chain head.
From here on, a change to those is caught; what was changed before the upgrade cannot be told apart.

Revision ID: trust_2
Revises: trust_1
Create Date: 2026-11-29
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from kapconsole.domain.integrity import (
    GENESIS,
    canonical_payload,
    header_hash,
    link_hash,
    session_header,
    timestamp,
)

revision = "trust_2"
down_revision = "trust_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chain_heads",
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("clinic_head", sa.String(length=64), nullable=False),
        sa.Column("clinic_count", sa.Integer(), nullable=False),
        sa.Column("audit_head", sa.String(length=64), nullable=False),
        sa.Column("audit_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_chain_heads")),
    )
    op.create_table(
        "clinic_chain",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_clinic_chain")),
    )
    op.create_index(op.f("ix_clinic_chain_session_id"), "clinic_chain", ["session_id"], unique=False)
    op.create_table(
        "signing_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("wrapped_private", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.DateTime(), nullable=False),
        sa.Column("valid_until", sa.DateTime(), nullable=True),
        sa.Column("registration", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_signing_keys_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_keys")),
        sa.UniqueConstraint("public_key", name=op.f("uq_signing_keys_public_key")),
    )
    op.create_index(op.f("ix_signing_keys_staff_id"), "signing_keys", ["staff_id"], unique=False)
    # Plain ADD COLUMN (no table rebuild on SQLite).
    op.add_column("clinical_sessions", sa.Column("header_json", sa.Text(), nullable=True))
    op.add_column("clinical_sessions", sa.Column("genesis", sa.String(length=64), nullable=False,
                                                 server_default=GENESIS))
    op.add_column("audit_events", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_events", sa.Column("hash", sa.String(length=64), nullable=True))
    _record_existing_sessions()


def _record_existing_sessions() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT s.id, c.identifier, c.name, c.date_of_birth, c.sex, c.allergies, s.course_id, s.number_in_course, "
        "s.room, s.route, s.planned_drug, s.planned_dose, s.planned_unit, s.scheduled_at, s.protocol_json, "
        "s.created_by, s.state, s.entry_count, s.chain_head FROM clinical_sessions s "
        "JOIN clients c ON c.id = s.client_id ORDER BY s.id")).all()
    head, seq = GENESIS, 0
    now = datetime.now(UTC)
    for r in rows:
        scheduled = r.scheduled_at if isinstance(r.scheduled_at, datetime) else datetime.fromisoformat(str(r.scheduled_at))
        dob = r.date_of_birth
        header = session_header(
            session_id=r.id, client_identifier=r.identifier, client_name=r.name,
            date_of_birth=None if dob is None else str(dob)[:10], sex=r.sex or "", allergies=r.allergies or "",
            course_id=r.course_id, number_in_course=r.number_in_course, room=r.room, route=r.route,
            planned_drug=r.planned_drug, planned_dose=r.planned_dose, planned_unit=r.planned_unit,
            scheduled_at=scheduled.replace(tzinfo=UTC) if scheduled.tzinfo is None else scheduled,
            protocol_json=r.protocol_json, created_by=r.created_by)
        text = canonical_payload(header)
        bind.execute(sa.text("UPDATE clinical_sessions SET header_json = :h WHERE id = :i"), {"h": text, "i": r.id})
        seq += 1
        detail = {"header": header_hash(text), "state": r.state, "entries": r.entry_count, "head": r.chain_head}
        fields = {"seq": seq, "at": timestamp(now), "kind": "recorded_at_upgrade", "session": r.id, "detail": detail}
        digest = link_hash(head, fields)
        bind.execute(sa.text("INSERT INTO clinic_chain (seq, at, kind, session_id, detail, prev_hash, hash) "
                             "VALUES (:seq, :at, :kind, :sid, :detail, :prev, :hash)"),
                     {"seq": seq, "at": now.replace(tzinfo=None), "kind": "recorded_at_upgrade", "sid": r.id,
                      "detail": canonical_payload(detail), "prev": head, "hash": digest})
        head = digest
    bind.execute(sa.text("INSERT INTO chain_heads (name, clinic_head, clinic_count, audit_head, audit_count) "
                         "VALUES ('clinic', :head, :count, :genesis, 0)"),
                 {"head": head, "count": seq, "genesis": GENESIS})


def downgrade() -> None:
    op.drop_column("audit_events", "hash")
    op.drop_column("audit_events", "prev_hash")
    op.drop_column("clinical_sessions", "genesis")
    op.drop_column("clinical_sessions", "header_json")
    op.drop_index(op.f("ix_signing_keys_staff_id"), table_name="signing_keys")
    op.drop_table("signing_keys")
    op.drop_index(op.f("ix_clinic_chain_session_id"), table_name="clinic_chain")
    op.drop_table("clinic_chain")
    op.drop_table("chain_heads")

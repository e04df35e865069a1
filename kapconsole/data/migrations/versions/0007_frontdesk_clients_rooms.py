"""front desk: client details and versions, course consent and status, rooms, session booking times

Revision ID: frontdesk_1
Revises: trust_3
Create Date: 2026-11-29
"""

import unicodedata
from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "frontdesk_1"
down_revision = "trust_3"
branch_labels = None
depends_on = None

#: The booking time of sessions planned before rooms had one (the protocol's default).
LEGACY_SESSION_MINUTES = 180


def _fold(text: str) -> str:
    # The same folding as kapconsole.domain.allergies.fold, frozen here as this revision's own copy.
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def upgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as b:
        b.add_column(sa.Column("pronouns", sa.String(length=32), nullable=False, server_default=""))
        b.add_column(sa.Column("weight_kg", sa.Float(), nullable=True))
        b.add_column(sa.Column("weight_on", sa.Date(), nullable=True))
        b.add_column(sa.Column("allergy_list", sa.Text(), nullable=False, server_default="[]"))
        b.add_column(sa.Column("medications", sa.Text(), nullable=False, server_default=""))
        b.add_column(sa.Column("emergency_contact", sa.String(length=200), nullable=False, server_default=""))
        b.add_column(sa.Column("emergency_phone", sa.String(length=40), nullable=False, server_default=""))
        b.add_column(sa.Column("escort_name", sa.String(length=200), nullable=False, server_default=""))
        b.add_column(sa.Column("escort_phone", sa.String(length=40), nullable=False, server_default=""))
        b.add_column(sa.Column("search_key", sa.String(length=600), nullable=False, server_default=""))
        b.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        b.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
        b.create_index(b.f("ix_clients_search_key"), ["search_key"], unique=False)

    with op.batch_alter_table("courses", schema=None) as b:
        b.add_column(sa.Column("indication", sa.Text(), nullable=False, server_default=""))
        b.add_column(sa.Column("phase", sa.String(length=32), nullable=False, server_default="preparation"))
        b.add_column(sa.Column("status", sa.String(length=32), nullable=False, server_default="active"))
        b.add_column(sa.Column("consent_on", sa.Date(), nullable=True))
        b.add_column(sa.Column("consent_version", sa.String(length=64), nullable=False, server_default=""))
        b.add_column(sa.Column("consent_witness_id", sa.Integer(), nullable=True))

    with op.batch_alter_table("clinical_sessions", schema=None) as b:
        b.add_column(sa.Column("expected_end_at", sa.DateTime(), nullable=True))
        b.add_column(sa.Column("dose_per_kg", sa.Float(), nullable=True))
        b.add_column(sa.Column("weight_used_kg", sa.Float(), nullable=True))

    op.create_table(
        "client_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("workstation", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["staff.id"], name=op.f("fk_client_versions_actor_id_staff")),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name=op.f("fk_client_versions_client_id_clients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_versions")),
        sa.UniqueConstraint("client_id", "version", name="uq_client_versions_client_version"),
    )
    op.create_table(
        "rooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rooms")),
        sa.UniqueConstraint("name", name=op.f("uq_rooms_name")),
    )

    # Existing data: clients become searchable, sessions get their booking time, rooms already in use become
    # the clinic's rooms.
    bind = op.get_bind()
    clients = sa.table("clients", sa.column("id", sa.Integer), sa.column("identifier", sa.String),
                       sa.column("name", sa.String), sa.column("search_key", sa.String))
    for cid, ident, name in bind.execute(sa.select(clients.c.id, clients.c.identifier, clients.c.name)).all():
        key = " ".join(p for p in (_fold(name), _fold(ident)) if p)
        bind.execute(clients.update().where(clients.c.id == cid).values(search_key=key))
    sessions = sa.table("clinical_sessions", sa.column("id", sa.Integer), sa.column("room", sa.String),
                        sa.column("scheduled_at", sa.DateTime), sa.column("expected_end_at", sa.DateTime))
    rooms_seen: set[str] = set()
    for sid, room, when in bind.execute(sa.select(sessions.c.id, sessions.c.room, sessions.c.scheduled_at)).all():
        rooms_seen.add(room)
        if when is not None:
            end = when + timedelta(minutes=LEGACY_SESSION_MINUTES)
            bind.execute(sessions.update().where(sessions.c.id == sid).values(expected_end_at=end))
    rooms = sa.table("rooms", sa.column("name", sa.String), sa.column("active", sa.Boolean),
                     sa.column("created_at", sa.DateTime))
    now = datetime.utcnow()
    for name in sorted(r for r in rooms_seen if r):
        bind.execute(rooms.insert().values(name=name[:64], active=True, created_at=now))


def downgrade() -> None:
    op.drop_table("rooms")
    op.drop_table("client_versions")
    with op.batch_alter_table("clinical_sessions", schema=None) as b:
        b.drop_column("weight_used_kg")
        b.drop_column("dose_per_kg")
        b.drop_column("expected_end_at")
    with op.batch_alter_table("courses", schema=None) as b:
        for col in ("consent_witness_id", "consent_version", "consent_on", "status", "phase", "indication"):
            b.drop_column(col)
    with op.batch_alter_table("clients", schema=None) as b:
        b.drop_index(b.f("ix_clients_search_key"))
        for col in ("updated_at", "version", "search_key", "escort_phone", "escort_name", "emergency_phone",
                    "emergency_contact", "medications", "allergy_list", "weight_on", "weight_kg", "pronouns"):
            b.drop_column(col)

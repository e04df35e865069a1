"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identifier', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('sex', sa.String(length=32), nullable=False),
    sa.Column('allergies', sa.Text(), nullable=False),
    sa.Column('screening_notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clients')),
    sa.UniqueConstraint('identifier', name=op.f('uq_clients_identifier'))
    )
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clients_name'), ['name'], unique=False)

    op.create_table('staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff')),
    sa.UniqueConstraint('login', name=op.f('uq_staff_login'))
    )
    op.create_table('clinic_settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by'], ['staff.id'], name=op.f('fk_clinic_settings_updated_by_staff')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_clinic_settings'))
    )
    op.create_table('courses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('planned_sessions', sa.Integer(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_courses_client_id_clients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courses'))
    )
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_client_id'), ['client_id'], unique=False)

    op.create_table('staff_roles',
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_staff_roles_staff_id_staff')),
    sa.PrimaryKeyConstraint('staff_id', 'role', name=op.f('pk_staff_roles'))
    )
    op.create_table('clinical_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('number_in_course', sa.Integer(), nullable=True),
    sa.Column('room', sa.String(length=64), nullable=False),
    sa.Column('workstation', sa.String(length=128), nullable=False),
    sa.Column('route', sa.String(length=32), nullable=False),
    sa.Column('planned_drug', sa.String(length=200), nullable=False),
    sa.Column('planned_dose', sa.Float(), nullable=True),
    sa.Column('planned_unit', sa.String(length=16), nullable=False),
    sa.Column('scheduled_at', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=False),
    sa.Column('protocol_json', sa.Text(), nullable=False),
    sa.Column('chain_head', sa.String(length=64), nullable=False),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_clinical_sessions_client_id_clients')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_clinical_sessions_course_id_courses')),
    sa.ForeignKeyConstraint(['created_by'], ['staff.id'], name=op.f('fk_clinical_sessions_created_by_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinical_sessions'))
    )
    with op.batch_alter_table('clinical_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_sessions_client', ['client_id', 'scheduled_at'], unique=False)
        batch_op.create_index('ix_sessions_room_scheduled', ['room', 'scheduled_at'], unique=False)
        batch_op.create_index('ix_sessions_scheduled', ['scheduled_at'], unique=False)
        batch_op.create_index('ix_sessions_state', ['state'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('workstation', sa.String(length=128), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['staff.id'], name=op.f('fk_audit_events_actor_id_staff')),
    sa.ForeignKeyConstraint(['session_id'], ['clinical_sessions.id'], name=op.f('fk_audit_events_session_id_clinical_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_session', ['session_id'], unique=False)

    op.create_table('entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('observed_at', sa.DateTime(), nullable=False),
    sa.Column('entered_at', sa.DateTime(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('workstation', sa.String(length=128), nullable=False),
    sa.Column('amends_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['amends_id'], ['entries.id'], name=op.f('fk_entries_amends_id_entries')),
    sa.ForeignKeyConstraint(['author_id'], ['staff.id'], name=op.f('fk_entries_author_id_staff')),
    sa.ForeignKeyConstraint(['session_id'], ['clinical_sessions.id'], name=op.f('fk_entries_session_id_clinical_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entries')),
    sa.UniqueConstraint('session_id', 'seq', name='uq_entries_session_seq')
    )
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.create_index('ix_entries_session_kind', ['session_id', 'kind'], unique=False)

    op.create_table('session_staff',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['clinical_sessions.id'], name=op.f('fk_session_staff_session_id_clinical_sessions')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_session_staff_staff_id_staff')),
    sa.PrimaryKeyConstraint('session_id', 'staff_id', name=op.f('pk_session_staff'))
    )



def downgrade() -> None:

    op.drop_table('session_staff')
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index('ix_entries_session_kind')

    op.drop_table('entries')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_session')
        batch_op.drop_index('ix_audit_at')

    op.drop_table('audit_events')
    with op.batch_alter_table('clinical_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_state')
        batch_op.drop_index('ix_sessions_scheduled')
        batch_op.drop_index('ix_sessions_room_scheduled')
        batch_op.drop_index('ix_sessions_client')

    op.drop_table('clinical_sessions')
    op.drop_table('staff_roles')
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_client_id'))

    op.drop_table('courses')
    op.drop_table('clinic_settings')
    op.drop_table('staff')
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clients_name'))

    op.drop_table('clients')


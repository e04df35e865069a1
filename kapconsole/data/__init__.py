"""Persistence: SQLAlchemy models, database setup, repositories and Alembic migrations."""

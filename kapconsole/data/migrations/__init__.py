"""Alembic migrations of the KAP Console schema (upgrade to head at start-up)."""

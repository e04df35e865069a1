"""Pieces every screen shares: the theme, the message banner, the read-only table model."""

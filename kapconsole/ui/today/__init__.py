"""Today: the room's sessions and restart recovery."""

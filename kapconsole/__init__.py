"""KAP Console: the session-room console for supervised ketamine-assisted psychotherapy sessions."""

__version__ = "0.1.0"

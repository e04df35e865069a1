"""The supervisor board and the audit trail."""

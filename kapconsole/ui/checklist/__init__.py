"""The pre-session checklist that gates the dose."""

"""The therapist's client view: course, sessions, the summary PDF and the course overview."""

"""Bedside monitor capture: code tables, message and reading values, and when a device value is suspect."""

"""Pure-Python domain: values, rules, validation and protocol settings. No Qt, no database."""

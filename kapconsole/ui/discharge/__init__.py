"""The discharge assessment and the supervisor's signature."""

"""The front desk: clients, courses, session planning and the rooms' week."""

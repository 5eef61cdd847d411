"""Temporal activities: thin and idempotent (each may run more than once)."""

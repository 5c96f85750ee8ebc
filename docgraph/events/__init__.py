"""Outbox worker and the LISTEN/NOTIFY broker for live events."""

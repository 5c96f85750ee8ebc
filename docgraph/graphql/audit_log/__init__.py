"""The audit_log domain of the API."""

"""The approvals domain of the API."""

"""The search domain of the API."""

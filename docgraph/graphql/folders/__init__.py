"""The folders domain of the API."""

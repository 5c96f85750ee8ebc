"""The trash domain of the API."""

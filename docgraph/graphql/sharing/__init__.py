"""The sharing domain of the API."""

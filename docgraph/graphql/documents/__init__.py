"""The documents domain of the API."""

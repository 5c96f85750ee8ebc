"""The notifications domain of the API."""

"""The auth domain of the API."""

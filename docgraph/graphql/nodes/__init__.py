"""The nodes domain of the API."""

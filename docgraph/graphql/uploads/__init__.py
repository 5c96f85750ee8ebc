"""The uploads domain of the API."""

"""The tenancy domain of the API."""

"""The organization_settings domain of the API."""

"""Passwords, tokens and the request principal."""

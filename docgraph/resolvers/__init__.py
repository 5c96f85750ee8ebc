"""Queries, mutations and subscriptions per domain: parse input, call services, shape output."""

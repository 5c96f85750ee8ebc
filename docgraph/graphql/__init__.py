"""The GraphQL API: the only package that imports Strawberry. schema.py assembles it."""

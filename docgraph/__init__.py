"""docgraph: a document management system served as a GraphQL API."""

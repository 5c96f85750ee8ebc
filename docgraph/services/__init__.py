"""Domain rules, one module per domain. Each use case owns its one transaction."""

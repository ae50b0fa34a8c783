"""Search: people find goods (see docs/architecture.md, "Search")."""

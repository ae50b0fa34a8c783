"""Flows: plain functions that run one business event across several domains' services, in the
caller's transaction (they never commit). Domains do not import flows; api/web handlers and jobs do.
See docs/architecture.md ("Layers")."""

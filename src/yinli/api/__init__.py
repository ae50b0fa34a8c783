"""HTTP API: app factory, problem+json errors, dependencies; routers live in each domain's api.py."""

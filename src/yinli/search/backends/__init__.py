"""Search backends: the protocol (base) and its tantivy and PostgreSQL implementations."""

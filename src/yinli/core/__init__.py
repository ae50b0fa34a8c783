"""Cross-cutting building blocks: settings, database, money, clock, errors, outbox, auth helpers."""

"""Content formats: creators and follows, affiliate plans and commission, live rooms, short videos,
and per-format attribution of sales."""

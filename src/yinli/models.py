"""Every table, imported in one place so Alembic and `create_all` see the whole schema: the core's own
tables here, each domain's from its `models` modules as registered in `yinli.domains`."""

from yinli.core.db import Base
from yinli.core.idempotency import IdempotentResponse
from yinli.core.outbox import OutboxCursor, OutboxEvent
from yinli.domains import import_models

import_models()

__all__ = ["Base", "IdempotentResponse", "OutboxCursor", "OutboxEvent"]

"""Alembic environment: the URL comes from the config `yinli.core.migrate` builds (or YINLI_DATABASE_URL)."""

from __future__ import annotations

from alembic import context

from yinli.core.db import make_engine
from yinli.core.settings import get_settings
from yinli.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTERs go through table copies
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()

"""Alembic's environment for consult (run through Flask-Migrate: `consult db …`, `consult init-db`).

The metadata is the app's (every feature's models, named by consult.extensions.NAMING_CONVENTION), so
`consult db migrate -m "…"` writes the difference as a new revision; SQLite alters tables in batch mode.
"""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from consult.core.search.index import SearchIndex

SEARCH_INDEX = SearchIndex("search")

config = context.config
fileConfig(config.config_file_name)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
config.set_main_option("sqlalchemy.url", target_db.engine.url.render_as_string(hide_password=False).replace("%", "%%"))


def run_migrations_offline():
    """Write the SQL instead of running it (`consult db upgrade --sql`)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"), target_metadata=target_db.metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run against the app's database; an autogenerate that finds no change writes no empty revision."""

    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = current_app.extensions["migrate"].configure_args
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    # The full-text index's tables are made by migration 0004_review's SQL, not by the models.
    conf_args.setdefault("include_name", SEARCH_INDEX.include_name)
    with target_db.engine.connect() as connection:
        # SQLite batch migrations copy and drop tables: with foreign keys on, dropping a table would
        # cascade-delete rows that reference it. Switch them off (outside any transaction) while migrating.
        raw = connection.connection.driver_connection if connection.dialect.name == "sqlite" else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        context.configure(connection=connection, target_metadata=target_db.metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

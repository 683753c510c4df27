"""Alembic runs the migrations on the connection app/store/database.py hands it, inside that
connection's transaction (which holds the migrations lock)."""

from alembic import context

context.configure(connection=context.config.attributes["connection"], transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()

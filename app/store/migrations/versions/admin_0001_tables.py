"""The tables of admins' edits as they were before migrations: scripts, scenarios, changes.

A SQLite file made before then has them already: they are kept as they are (if_not_exists),
and the file is stamped.

Revision ID: admin_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "admin_0001"
down_revision = None
branch_labels = ("admin",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scripts",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("edited", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("published", sa.Text),
        sa.Column("draft", sa.Text),
        sa.Column("draft_deletes", sa.Integer, nullable=False, server_default=sa.text("0")),
        if_not_exists=True,
    )
    op.create_table(
        "scenarios",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("record", sa.Text, nullable=False),
        if_not_exists=True,
    )
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("who", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, sa.CheckConstraint("kind IN ('publish', 'revert', 'scenario')"), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("changes")
    op.drop_table("scenarios")
    op.drop_table("scripts")

"""The feedback tables as they were before migrations: feedback, shown, gaps.

A SQLite file made before then has them already: they are kept as they are (if_not_exists),
and the file is stamped.

Revision ID: feedback_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "feedback_0001"
down_revision = None
branch_labels = ("feedback",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("script_id", sa.Text, nullable=False),
        sa.Column("signal", sa.Text, sa.CheckConstraint("signal IN ('up', 'down', 'copied')"), nullable=False),
        sa.Column("index_version", sa.Text, nullable=False),
        if_not_exists=True,
    )
    op.create_table(
        "shown",
        sa.Column("day", sa.Text, primary_key=True),
        sa.Column("script_id", sa.Text, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        if_not_exists=True,
    )
    op.create_table(
        "gaps",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("level", sa.Text, sa.CheckConstraint("level IN ('weak', 'none')"), nullable=False),
        sa.Column("model", sa.Text),
        sa.Column("vector", sa.LargeBinary),
        if_not_exists=True,
    )
    op.create_index("gaps_at", "gaps", ["at"], if_not_exists=True)


def downgrade() -> None:
    op.drop_table("gaps")
    op.drop_table("shown")
    op.drop_table("feedback")

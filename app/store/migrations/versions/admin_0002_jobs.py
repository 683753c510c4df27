"""Jobs in the database, so that every replica answers a job's status and one re-index at a
time holds across processes; scenarios keep the order they were added in without SQLite's rowid.

Revision ID: admin_0002
Revises: admin_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "admin_0002"
down_revision = "admin_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column(
            "state", sa.Text, sa.CheckConstraint("state IN ('queued', 'running', 'succeeded', 'failed')"),
            nullable=False,
        ),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("version", sa.Text),
        sa.Column("up_to_date", sa.Boolean(create_constraint=False), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("created", sa.Text, nullable=False),
        sa.Column("finished", sa.Text),
        sa.Column("heartbeat", sa.Float, nullable=False),
    )
    op.create_index("jobs_state", "jobs", ["state"])
    op.add_column("scenarios", sa.Column("position", sa.Integer))
    if op.get_bind().dialect.name == "sqlite":
        # Scenarios added before this revision: the order SQLite kept them in.
        op.execute("UPDATE scenarios SET position = rowid")


def downgrade() -> None:
    op.drop_column("scenarios", "position")
    op.drop_index("jobs_state", "jobs")
    op.drop_table("jobs")

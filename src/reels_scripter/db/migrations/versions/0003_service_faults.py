"""worker losses apart from attempts, webhook outbox, video retention, worker presence"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    ts = sa.DateTime(timezone=True)
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("lost_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("claimed_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("video_expires_at", ts, nullable=True))
        batch.add_column(sa.Column("callback_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("webhook_state", sa.String(16), nullable=True))
        batch.add_column(sa.Column("webhook_due_at", ts, nullable=True))
        batch.add_column(sa.Column("webhook", json_type, nullable=True))
        batch.create_index("ix_jobs_video_expires_at", ["video_expires_at"], unique=False)
        batch.create_index(
            "ix_jobs_webhook_state_due_at", ["webhook_state", "webhook_due_at"], unique=False
        )
    op.create_table(
        "workers",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("cause", sa.String(32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", ts, nullable=False),
        sa.Column("heartbeat_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_workers")),
    )


def downgrade() -> None:
    op.drop_table("workers")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_webhook_state_due_at")
        batch.drop_index("ix_jobs_video_expires_at")
        for column in (
            "webhook",
            "webhook_due_at",
            "webhook_state",
            "callback_url",
            "video_expires_at",
            "claimed_by",
            "lost_count",
        ):
            batch.drop_column(column)

"""import by link (jobs.source_url, source_key, imported) and share links (shares)"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("source_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("source_key", sa.String(400), nullable=True))
        batch.add_column(sa.Column("imported", json_type, nullable=True))
        batch.create_index(
            "ix_jobs_source_key", ["source_key", "settings_fingerprint", "state"], unique=False
        )
    op.create_table(
        "shares",
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("owner", sa.String(128), nullable=True),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("expires_at", ts, nullable=True),
        sa.Column("revoked_at", ts, nullable=True),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_shares")),
    )
    op.create_index("ix_shares_job_id", "shares", ["job_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_shares_job_id", table_name="shares")
    op.drop_table("shares")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_source_key")
        batch.drop_column("imported")
        batch.drop_column("source_key")
        batch.drop_column("source_url")

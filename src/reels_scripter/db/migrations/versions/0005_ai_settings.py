"""the studio's stored AI settings (one row, the key encrypted)"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "ai_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("base_url", sa.Text(), nullable=True),
        sa.Column("key_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("key_last4", sa.String(4), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("checked_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_settings")),
    )


def downgrade() -> None:
    op.drop_table("ai_settings")

"""Voice and video: each character's voice, spoken user turns, per-chat /voice and /video.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("characters") as batch:
        batch.add_column(sa.Column("voice", sa.String(length=64), nullable=True))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(
            sa.Column("spoken", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "chat_settings",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("voice", sa.Boolean(), nullable=True),
        sa.Column("video", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_chat_settings")),
    )


def downgrade() -> None:
    op.drop_table("chat_settings")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("spoken")
    with op.batch_alter_table("characters") as batch:
        batch.drop_column("voice")

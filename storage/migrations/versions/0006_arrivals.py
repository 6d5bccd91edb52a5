"""Arrivals: messages taken from Telegram and not yet answered, so a killed process loses none.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "arrivals",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_arrivals")),
    )
    op.create_index(op.f("ix_arrivals_received_at"), "arrivals", ["received_at"])
    op.create_index(op.f("ix_arrivals_user_id"), "arrivals", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_arrivals_user_id"), table_name="arrivals")
    op.drop_index(op.f("ix_arrivals_received_at"), table_name="arrivals")
    op.drop_table("arrivals")

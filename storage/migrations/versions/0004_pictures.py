"""Pictures: every talking picture of a turn (the first and each /image), not only the last.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pictures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_pictures_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pictures")),
    )
    op.create_index(
        "ix_pictures_telegram_message_id", "pictures", ["telegram_message_id"], unique=False
    )
    op.execute(
        "INSERT INTO pictures (message_id, telegram_message_id) "
        "SELECT id, picture_message_id FROM messages WHERE picture_message_id IS NOT NULL"
    )
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_chat_id_picture_message_id")
        batch.drop_column("picture_message_id")


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("picture_message_id", sa.BigInteger(), nullable=True))
        batch.create_index(
            "ix_messages_chat_id_picture_message_id", ["chat_id", "picture_message_id"]
        )
    # A turn drawn several times keeps its newest picture, as before this revision.
    op.execute(
        "UPDATE messages SET picture_message_id = (SELECT p.telegram_message_id FROM pictures p "
        "WHERE p.message_id = messages.id ORDER BY p.id DESC LIMIT 1)"
    )
    op.drop_table("pictures")

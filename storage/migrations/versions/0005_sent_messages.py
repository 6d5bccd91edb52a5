"""Sent messages: every message the bot sent for a line (text pieces, voice, picture, video)
routes replies, not only the text and the pictures; messages get an index for retention.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sent_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "kind IN ('text', 'voice', 'picture', 'video')", name=op.f("ck_sent_messages_kind")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_sent_messages_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_messages")),
    )
    op.create_index(
        "ix_sent_messages_chat_id_telegram_message_id",
        "sent_messages",
        ["chat_id", "telegram_message_id"],
    )
    op.create_index("ix_sent_messages_message_id", "sent_messages", ["message_id"])
    # The character's lines (their first message) and their pictures, oldest first.
    op.execute(
        "INSERT INTO sent_messages (message_id, chat_id, telegram_message_id, kind) "
        "SELECT id, chat_id, telegram_message_id, 'text' FROM messages "
        "WHERE role = 'character' AND telegram_message_id IS NOT NULL ORDER BY id"
    )
    op.execute(
        "INSERT INTO sent_messages (message_id, chat_id, telegram_message_id, kind) "
        "SELECT p.message_id, m.chat_id, p.telegram_message_id, 'picture' "
        "FROM pictures p JOIN messages m ON m.id = p.message_id ORDER BY p.id"
    )
    op.drop_table("pictures")
    op.create_index("ix_messages_created_at", "messages", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_created_at", table_name="messages")
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
    op.create_index("ix_pictures_telegram_message_id", "pictures", ["telegram_message_id"])
    # Only pictures had a table before: replies to voices and videos route no more.
    op.execute(
        "INSERT INTO pictures (message_id, telegram_message_id) "
        "SELECT message_id, telegram_message_id FROM sent_messages WHERE kind = 'picture' "
        "ORDER BY id"
    )
    op.drop_table("sent_messages")

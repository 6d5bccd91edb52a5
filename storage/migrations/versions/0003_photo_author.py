"""Who sent each character's photo, so /forget can find every character made from it.

A character in a group may outlive its creator (when the photo was someone else's), so its
owner becomes optional.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("characters") as batch:
        batch.add_column(sa.Column("photo_author_id", sa.BigInteger(), nullable=True))
        batch.alter_column("owner_id", existing_type=sa.BigInteger(), nullable=True)
        batch.create_index("ix_characters_photo_author_id", ["photo_author_id"])
    # Before this revision the creator was the best-known sender of the photo; copies are
    # found through source_character_id.
    op.execute("UPDATE characters SET photo_author_id = owner_id WHERE source_character_id IS NULL")


def downgrade() -> None:
    # Characters without an owner cannot exist before this revision. Their rows are deleted
    # one table at a time: SQLite migrates with foreign keys off, so no ON DELETE runs.
    ownerless = "SELECT id FROM characters WHERE owner_id IS NULL"
    op.execute(f"DELETE FROM messages WHERE character_id IN ({ownerless})")
    op.execute(f"DELETE FROM active_characters WHERE character_id IN ({ownerless})")
    op.execute(
        "UPDATE characters SET source_character_id = NULL "
        f"WHERE source_character_id IN ({ownerless})"
    )
    op.execute("DELETE FROM characters WHERE owner_id IS NULL")
    with op.batch_alter_table("characters") as batch:
        batch.drop_index("ix_characters_photo_author_id")
        batch.alter_column("owner_id", existing_type=sa.BigInteger(), nullable=False)
        batch.drop_column("photo_author_id")

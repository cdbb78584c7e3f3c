"""welcome: arrivals, chapter picks; where the welcome goes, its tips, the rules text

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chapter_picks",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chapter_key", sa.String(length=100), nullable=False),
        sa.Column("picked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name=op.f("pk_chapter_picks")),
    )
    op.create_table(
        "welcome_arrivals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_welcome_arrivals")),
        sa.UniqueConstraint("guild_id", "user_id", "joined_at", name="uq_welcome_arrivals_join"),
    )
    with op.batch_alter_table("guild_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("welcome_mode", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("welcome_channel_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("welcome_tips", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("rules_text", sa.String(length=1000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("guild_settings", schema=None) as batch_op:
        batch_op.drop_column("rules_text")
        batch_op.drop_column("welcome_tips")
        batch_op.drop_column("welcome_channel_id")
        batch_op.drop_column("welcome_mode")

    op.drop_table("welcome_arrivals")
    op.drop_table("chapter_picks")

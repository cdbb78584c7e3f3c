"""versioned directory rows, curated fields; guild resources leave the directory

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("chapters", "projects"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")))
            batch_op.add_column(sa.Column("curated", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    with op.batch_alter_table("chapters", schema=None) as batch_op:
        batch_op.drop_column("discord_category_id")
        batch_op.drop_column("discord_role_id")
    with op.batch_alter_table("summits", schema=None) as batch_op:
        batch_op.drop_column("discord_event_id")


def downgrade() -> None:
    with op.batch_alter_table("summits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("discord_event_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("chapters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("discord_role_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("discord_category_id", sa.BigInteger(), nullable=True))
    for table in ("chapters", "projects"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("curated")
            batch_op.drop_column("version")

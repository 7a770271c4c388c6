"""Limit and protected sells: price, time in force and slip on previews and orders.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 16:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pending_sells", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ord_type", sa.String(length=16), server_default="market", nullable=False)
        )
        batch_op.add_column(sa.Column("price", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("time_in_force", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("slip_percent", sa.Text(), nullable=True))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("price", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("time_in_force", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("slip_percent", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("slip_percent")
        batch_op.drop_column("time_in_force")
        batch_op.drop_column("price")
    with op.batch_alter_table("pending_sells", schema=None) as batch_op:
        batch_op.drop_column("slip_percent")
        batch_op.drop_column("time_in_force")
        batch_op.drop_column("price")
        batch_op.drop_column("ord_type")

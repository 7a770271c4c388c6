"""Money safety under faults: one order per preview (unique orders.pending_id); the
not-found evidence of an order in doubt; notices Telegram refused for good; the preview's
estimated net proceeds for the price check at Confirm.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("not_found_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("first_not_found_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("undeliverable", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_unique_constraint(batch_op.f("uq_orders_pending_id"), ["pending_id"])
    with op.batch_alter_table("pending_sells", schema=None) as batch_op:
        batch_op.add_column(sa.Column("est_net", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pending_sells", schema=None) as batch_op:
        batch_op.drop_column("est_net")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_orders_pending_id"), type_="unique")
        batch_op.drop_column("undeliverable")
        batch_op.drop_column("first_not_found_at")
        batch_op.drop_column("not_found_count")

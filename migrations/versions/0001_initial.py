"""Initial schema: orders, pending_sells, paper_balances, paper_orders.

Revision ID: 0001
Revises:
Create Date: 2026-01-01 00:00:00

Amounts are exact decimal TEXT (`bot.db.base.DecimalText`); times are UTC
(`bot.db.base.UTCDateTime`).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("identifier", sa.String(length=255), nullable=False),
        sa.Column("uuid", sa.String(length=255), nullable=True),
        sa.Column("pending_id", sa.String(length=255), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("lang", sa.String(length=16), nullable=False),
        sa.Column("market", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("ord_type", sa.String(length=16), nullable=False),
        sa.Column("requested_volume", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("executed_volume", sa.Text(), nullable=False),
        sa.Column("avg_price", sa.Text(), nullable=True),
        sa.Column("gross_funds", sa.Text(), nullable=True),
        sa.Column("paid_fee", sa.Text(), nullable=True),
        sa.Column("paper", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("raw_response", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("announce_claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("identifier", name=op.f("uq_orders_identifier")),
        sa.UniqueConstraint("uuid", name=op.f("uq_orders_uuid")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_state"), ["state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_orders_announced_at"), ["announced_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_orders_user_id_created_at"), ["user_id", "created_at"], unique=False
        )

    op.create_table(
        "pending_sells",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("market", sa.String(length=32), nullable=False),
        sa.Column("volume", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_sells")),
    )
    with op.batch_alter_table("pending_sells", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pending_sells_user_id_status"), ["user_id", "status"], unique=False
        )

    op.create_table(
        "paper_balances",
        sa.Column("currency", sa.String(length=32), nullable=False),
        sa.Column("balance", sa.Text(), nullable=False),
        sa.Column("locked", sa.Text(), nullable=False),
        sa.Column("avg_buy_price", sa.Text(), nullable=False),
        sa.Column("unit_currency", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("currency", name=op.f("pk_paper_balances")),
    )

    op.create_table(
        "paper_orders",
        sa.Column("uuid", sa.String(length=255), nullable=False),
        sa.Column("identifier", sa.String(length=255), nullable=False),
        sa.Column("order_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_paper_orders")),
        sa.UniqueConstraint("identifier", name=op.f("uq_paper_orders_identifier")),
    )


def downgrade() -> None:
    op.drop_table("paper_orders")
    op.drop_table("paper_balances")
    with op.batch_alter_table("pending_sells", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_sells_user_id_status"))
    op.drop_table("pending_sells")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_user_id_created_at"))
        batch_op.drop_index(batch_op.f("ix_orders_announced_at"))
        batch_op.drop_index(batch_op.f("ix_orders_state"))
    op.drop_table("orders")

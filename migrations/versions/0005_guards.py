"""Guards: daily sell limit, one-time codes and /lock (guard_state; pending_sells columns).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 16:00:00

`guard_state` holds exactly one row (id 1), inserted here: every claim updates it first,
which serialises claims across processes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pending_sells", schema=None) as batch_op:
        batch_op.add_column(sa.Column("est_krw", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("released_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("code_requested_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("code_failures", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_index(
            batch_op.f("ix_pending_sells_claimed_at"), ["claimed_at"], unique=False
        )

    guard_state = op.create_table(
        "guard_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("locked_by", sa.BigInteger(), nullable=True),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("wrong_codes", sa.Integer(), nullable=False),
        sa.Column("codes_blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unlock_requested_by", sa.BigInteger(), nullable=True),
        sa.Column("unlock_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claims", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guard_state")),
    )
    op.bulk_insert(guard_state, [{"id": 1, "locked": False, "wrong_codes": 0, "claims": 0}])


def downgrade() -> None:
    op.drop_table("guard_state")
    with op.batch_alter_table("pending_sells", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_sells_claimed_at"))
        batch_op.drop_column("code_failures")
        batch_op.drop_column("code_requested_at")
        batch_op.drop_column("released_at")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("est_krw")

"""orders.failure: why a FAILED order failed, as a typed value instead of a text prefix.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 00:00:00

Existing FAILED rows are filled in from the prefix their `last_error` was written with.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failure", sa.String(length=16), nullable=True))
    op.execute(
        "UPDATE orders SET failure = CASE"
        " WHEN last_error LIKE 'not_created%' THEN 'not_created'"
        " WHEN last_error LIKE 'not_sent%' THEN 'not_sent'"
        " ELSE 'rejected' END"
        " WHERE state = 'failed'"
    )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("failure")

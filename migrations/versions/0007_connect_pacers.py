"""Connect pacers: WebSocket connects paced across processes and restarts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 16:30:00

`connect_pacers` holds, per outside service, the next moment (epoch seconds, database
clock) a connect may be made; rows are created on first use.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connect_pacers",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_connect_pacers")),
    )


def downgrade() -> None:
    op.drop_table("connect_pacers")

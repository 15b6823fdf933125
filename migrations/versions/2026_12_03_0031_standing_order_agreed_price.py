"""standing_order.max_unit_price: the price per unit agreed with a request's accepted offer, above which a day is
not placed

Revision ID: 0031
Revises: 0029
Create Date: 2026-12-03 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("standing_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_unit_price", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("standing_order", schema=None) as batch_op:
        batch_op.drop_column("max_unit_price")

"""buyer_request.delivery_point_id: a worker's request for a group of workers, delivered to a gate or dormitory of
the zone instead of a canteen's address

Revision ID: 0035
Revises: 0032
Create Date: 2026-12-03 17:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("buyer_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery_point_id", sa.Integer(), nullable=True))
        batch_op.alter_column("organisation_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_buyer_request_delivery_point_id_delivery_point"),
            "delivery_point",
            ["delivery_point_id"],
            ["id"],
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_buyer_request_one_buyer_place"),
            "(organisation_id IS NULL) <> (delivery_point_id IS NULL)",
        )
        batch_op.create_index(batch_op.f("ix_buyer_request_created_by_id"), ["created_by_id"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM buyer_request WHERE organisation_id IS NULL")
    with op.batch_alter_table("buyer_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_buyer_request_created_by_id"))
        batch_op.drop_constraint(batch_op.f("ck_buyer_request_one_buyer_place"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_buyer_request_delivery_point_id_delivery_point"), type_="foreignkey")
        batch_op.alter_column("organisation_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("delivery_point_id")

"""checkout details: a canteen's receiving contact, phone and default delivery notes; an order's purchase-order
number and receiving contact as they were when it was placed; a vendor's delivery fee (flat or by distance band) and
minimum order value, and each order's delivery fee

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(name: str, length: int) -> sa.Column[str]:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=False, server_default="")


def _rupiah(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=False, server_default="0")


def upgrade() -> None:
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(_text("receiving_contact", 120))
        batch_op.add_column(_text("receiving_phone", 16))
        batch_op.add_column(_text("delivery_notes", 500))
    with op.batch_alter_table("vendor_order", schema=None) as batch_op:
        batch_op.add_column(_text("receiving_contact", 120))
        batch_op.add_column(_text("receiving_phone", 16))
        batch_op.add_column(_text("po_number", 40))
        batch_op.add_column(_rupiah("delivery_fee"))
        batch_op.create_check_constraint("delivery_fee_within_total", "delivery_fee >= 0 AND delivery_fee <= total")
    with op.batch_alter_table("vendor", schema=None) as batch_op:
        batch_op.add_column(_rupiah("delivery_fee"))
        batch_op.add_column(_rupiah("min_order_value"))
        batch_op.add_column(sa.Column("delivery_fee_bands", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.create_check_constraint("fees_not_negative", "delivery_fee >= 0 AND min_order_value >= 0")
    # The defaults only fill the rows that exist; the application always writes these columns.
    for table, columns in (
        ("organisation", ("receiving_contact", "receiving_phone", "delivery_notes")),
        ("vendor_order", ("receiving_contact", "receiving_phone", "po_number", "delivery_fee")),
        ("vendor", ("delivery_fee", "min_order_value", "delivery_fee_bands")),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("vendor", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_vendor_fees_not_negative"), type_="check")
        batch_op.drop_column("delivery_fee_bands")
        batch_op.drop_column("min_order_value")
        batch_op.drop_column("delivery_fee")
    with op.batch_alter_table("vendor_order", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_vendor_order_delivery_fee_within_total"), type_="check")
        batch_op.drop_column("delivery_fee")
        batch_op.drop_column("po_number")
        batch_op.drop_column("receiving_phone")
        batch_op.drop_column("receiving_contact")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("delivery_notes")
        batch_op.drop_column("receiving_phone")
        batch_op.drop_column("receiving_contact")

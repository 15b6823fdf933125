"""gateway payments: a checkout may be paid by QRIS or a virtual account through the payment gateway (the
payment methods are allowed by the CHECKs of checkout and vendor_order); its payment carries the gateway's
payment request and payment ids, the QRIS string or the virtual account, and its expiry; the gateway's callbacks
are stored once each; a refund may have the gateway's refund id

Revision ID: 0033
Revises: 0031
Create Date: 2026-12-03 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0033"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

METHODS_BEFORE = "payment_method IN ('card', 'invoice', 'cash', 'bank_transfer')"
METHODS_AFTER = "payment_method IN ('card', 'invoice', 'cash', 'bank_transfer', 'qris', 'virtual_account')"


def _payment_methods(check: str) -> None:
    for table in ("checkout", "vendor_order"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"ck_{table}_payment_method_known"), type_="check")
            batch_op.create_check_constraint(batch_op.f(f"ck_{table}_payment_method_known"), check)


def upgrade() -> None:
    _payment_methods(METHODS_AFTER)
    op.create_table(
        "gateway_callback",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("event", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("rejected_reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_callback")),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gateway_request_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        batch_op.add_column(sa.Column("gateway_payment_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        batch_op.add_column(sa.Column("qr_string", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("va_bank", sqlmodel.sql.sqltypes.AutoString(length=20), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("va_number", sqlmodel.sql.sqltypes.AutoString(length=40), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_payment_gateway_request_id"), ["gateway_request_id"])
        batch_op.create_unique_constraint(batch_op.f("uq_payment_gateway_payment_id"), ["gateway_payment_id"])
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gateway_refund_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_refund_gateway_refund_id"), ["gateway_refund_id"])


def downgrade() -> None:
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_refund_gateway_refund_id"), type_="unique")
        batch_op.drop_column("gateway_refund_id")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_payment_gateway_payment_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_payment_gateway_request_id"), type_="unique")
        for column in ("expires_at", "va_number", "va_bank", "qr_string", "gateway_payment_id", "gateway_request_id"):
            batch_op.drop_column(column)
    op.drop_table("gateway_callback")
    _payment_methods(METHODS_BEFORE)

"""gateway payouts: a payout may be sent through the payment gateway's payouts API; it then has a status
(pending, sent, succeeded, failed; a payout made by hand is manual), the bank's channel code, the gateway's
payout id, the last error and when it last changed

Revision ID: 0034
Revises: 0035
Create Date: 2026-12-03 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0034"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = "status IN ('manual', 'pending', 'sent', 'succeeded', 'failed')"


def upgrade() -> None:
    with op.batch_alter_table("payout", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), server_default="manual", nullable=False))
        batch_op.add_column(
            sa.Column("channel_code", sqlmodel.sql.sqltypes.AutoString(length=40), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("gateway_payout_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        batch_op.add_column(
            sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=300), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_payout_gateway_payout_id"), ["gateway_payout_id"])
        batch_op.create_check_constraint(batch_op.f("ck_payout_status_known"), STATUSES)


def downgrade() -> None:
    with op.batch_alter_table("payout", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_payout_status_known"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_payout_gateway_payout_id"), type_="unique")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("last_error")
        batch_op.drop_column("gateway_payout_id")
        batch_op.drop_column("channel_code")
        batch_op.drop_column("status")

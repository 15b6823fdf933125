"""payment checks: the hosted Checkout Session made for a payment, so a session's payment is only believed for
the session we created, and why a signed Stripe event was rejected (not the payment we created)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 14:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_payment_session_id"), ["session_id"])
    with op.batch_alter_table("stripe_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rejected_reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stripe_event", schema=None) as batch_op:
        batch_op.drop_column("rejected_reason")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_payment_session_id"), type_="unique")
        batch_op.drop_column("session_id")

"""payout accounts: the bank account each vendor records for payouts (bank, number, holder), and on each payout
the account it went to

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payout_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("bank_name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("account_number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("account_holder", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["vendor_id"], ["vendor.id"], name=op.f("fk_payout_account_vendor_id_vendor")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_account")),
        sa.UniqueConstraint("vendor_id", name=op.f("uq_payout_account_vendor_id")),
    )
    with op.batch_alter_table("payout", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("bank_name", sqlmodel.sql.sqltypes.AutoString(length=60), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("account_number", sqlmodel.sql.sqltypes.AutoString(length=20), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("account_holder", sqlmodel.sql.sqltypes.AutoString(length=120), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("payout", schema=None) as batch_op:
        batch_op.drop_column("account_holder")
        batch_op.drop_column("account_number")
        batch_op.drop_column("bank_name")

    op.drop_table("payout_account")

"""bank refunds: a refund of a bank-transfer payment is sent back by the platform's staff, who record the bank's
reference (refund.sent_reference, refund.sent_by_id); the ledger owes it to the buyer in an account of its own
("refunds", its lines naming the refund), and a short or damaged delivery of a bank-transfer order settles as a
bank refund

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACCOUNTS_BEFORE = "account IN ('clearing', 'commission', 'vendor')"
ACCOUNTS_AFTER = "account IN ('clearing', 'commission', 'vendor', 'refunds')"
SETTLEMENTS_BEFORE = "settlement IN ('none', 'card_refund', 'credit_note', 'cash_refund')"
SETTLEMENTS_AFTER = "settlement IN ('none', 'card_refund', 'credit_note', 'cash_refund', 'bank_refund')"


def _checks(accounts: str, settlements: str) -> None:
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_ledger_entry_account_known"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_ledger_entry_account_known"), accounts)
    with op.batch_alter_table("delivery_claim", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_delivery_claim_settlement_known"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_delivery_claim_settlement_known"), settlements)


def upgrade() -> None:
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sent_reference", sqlmodel.sql.sqltypes.AutoString(length=120), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("sent_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_refund_sent_by_id_user"), "user", ["sent_by_id"], ["id"])
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refund_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_ledger_entry_refund_id_refund"), "refund", ["refund_id"], ["id"])
    _checks(ACCOUNTS_AFTER, SETTLEMENTS_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM ledger_entry WHERE account = 'refunds' OR refund_id IS NOT NULL")
    op.execute("UPDATE delivery_claim SET settlement = 'cash_refund' WHERE settlement = 'bank_refund'")
    _checks(ACCOUNTS_BEFORE, SETTLEMENTS_BEFORE)
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_ledger_entry_refund_id_refund"), type_="foreignkey")
        batch_op.drop_column("refund_id")
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_refund_sent_by_id_user"), type_="foreignkey")
        batch_op.drop_column("sent_by_id")
        batch_op.drop_column("sent_reference")

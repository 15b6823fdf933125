"""bank transfers: a checkout may be paid by bank transfer to the platform's account (the payment method is
allowed by the CHECKs of checkout and vendor_order), and its payment carries the transfer's reference and who
confirmed it

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

METHODS_BEFORE = "payment_method IN ('card', 'invoice', 'cash')"
METHODS_AFTER = "payment_method IN ('card', 'invoice', 'cash', 'bank_transfer')"


def _payment_methods(check: str) -> None:
    for table in ("checkout", "vendor_order"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"ck_{table}_payment_method_known"), type_="check")
            batch_op.create_check_constraint(batch_op.f(f"ck_{table}_payment_method_known"), check)


def upgrade() -> None:
    _payment_methods(METHODS_AFTER)
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True))
        batch_op.add_column(sa.Column("confirmed_by_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_payment_reference"), ["reference"])
        batch_op.create_foreign_key(batch_op.f("fk_payment_confirmed_by_id_user"), "user", ["confirmed_by_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_payment_confirmed_by_id_user"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_payment_reference"), type_="unique")
        batch_op.drop_column("confirmed_by_id")
        batch_op.drop_column("reference")
    _payment_methods(METHODS_BEFORE)

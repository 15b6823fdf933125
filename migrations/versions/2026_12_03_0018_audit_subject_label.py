"""audit subject label: what an audit entry's subject was called when it happened ("Keripik Tempe",
"INV-2026-000123"), so the log reads in words. Entries written before stay without one (the log is append-only).

Plain ALTER TABLE (no batch copy on SQLite): the table's append-only triggers stay as they are.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 07:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "audit_entry",
        sa.Column("subject_label", sqlmodel.sql.sqltypes.AutoString(length=160), server_default="", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("audit_entry", "subject_label")

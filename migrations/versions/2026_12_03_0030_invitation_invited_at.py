"""vendor_invitation.invited_at: when a manager sent a register row its WhatsApp invitation to sign up (or marked it
as invited), the funnel's "invited" step

Revision ID: 0030
Revises: 0028
Create Date: 2026-12-03 16:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0030"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("vendor_invitation", sa.Column("invited_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vendor_invitation") as batch:
        batch.drop_column("invited_at")

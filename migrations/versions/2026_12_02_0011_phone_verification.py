"""phone verification: one-time codes sent to a phone number (stored as an HMAC), and when each account proved its
number; the accounts that exist already count as verified (they were made before codes existed, and their owners
have been using them)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_verified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.execute('UPDATE "user" SET phone_verified_at = created_at')

    op.create_table(
        "phone_verification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("ip_address", sqlmodel.sql.sqltypes.AutoString(length=45), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("wrong_attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.CheckConstraint("purpose IN ('sign_up', 'login')", name=op.f("ck_phone_verification_purpose_known")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_phone_verification_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_verification")),
    )
    with op.batch_alter_table("phone_verification", schema=None) as batch_op:
        batch_op.create_index("ix_phone_verification_phone_created_at", ["phone", "created_at"], unique=False)
        batch_op.create_index("ix_phone_verification_ip_created_at", ["ip_address", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_phone_verification_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("phone_verification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phone_verification_user_id"))
        batch_op.drop_index("ix_phone_verification_phone_created_at")
        batch_op.drop_index("ix_phone_verification_ip_created_at")
    op.drop_table("phone_verification")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("phone_verified_at")

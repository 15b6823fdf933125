"""moderation

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 02:53:16.729821
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("subject_type", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["user.id"], name=op.f("fk_audit_entry_actor_id_user")),
        sa.ForeignKeyConstraint(["zone_id"], ["zone.id"], name=op.f("fk_audit_entry_zone_id_zone")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entry_action"), ["action"], unique=False)
        batch_op.create_index("ix_audit_entry_zone_at", ["zone_id", "at"], unique=False)

    op.create_table(
        "register_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("created_count", sa.Integer(), nullable=False),
        sa.Column("updated_count", sa.Integer(), nullable=False),
        sa.Column("unchanged_count", sa.Integer(), nullable=False),
        sa.Column("rejected_count", sa.Integer(), nullable=False),
        sa.Column("rejected_rows", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["manager_id"], ["user.id"], name=op.f("fk_register_import_manager_id_user")),
        sa.ForeignKeyConstraint(["zone_id"], ["zone.id"], name=op.f("fk_register_import_zone_id_zone")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_import")),
    )
    with op.batch_alter_table("register_import", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_register_import_zone_id"), ["zone_id"], unique=False)

    op.create_table(
        "vendor_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("business_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("owner_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("nib", sqlmodel.sql.sqltypes.AutoString(length=13), nullable=True),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("kecamatan", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("desa", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("claimed_by_id", sa.Integer(), nullable=True),
        sa.Column("claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["claimed_by_id"], ["user.id"], name=op.f("fk_vendor_invitation_claimed_by_id_user")),
        sa.ForeignKeyConstraint(
            ["import_id"], ["register_import.id"], name=op.f("fk_vendor_invitation_import_id_register_import")
        ),
        sa.ForeignKeyConstraint(["zone_id"], ["zone.id"], name=op.f("fk_vendor_invitation_zone_id_zone")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_invitation")),
        sa.UniqueConstraint("zone_id", "nib", name="uq_vendor_invitation_zone_nib"),
        sa.UniqueConstraint("zone_id", "phone", name="uq_vendor_invitation_zone_phone"),
    )
    with op.batch_alter_table("vendor_invitation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vendor_invitation_phone"), ["phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_vendor_invitation_zone_id"), ["zone_id"], unique=False)

    op.create_table(
        "certificate_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("run_on", sa.Date(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('warn_30', 'warn_7', 'expired')", name=op.f("ck_certificate_notice_kind_known")),
        sa.ForeignKeyConstraint(
            ["certificate_id"], ["certificate.id"], name=op.f("fk_certificate_notice_certificate_id_certificate")
        ),
        sa.ForeignKeyConstraint(["vendor_id"], ["vendor.id"], name=op.f("fk_certificate_notice_vendor_id_vendor")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_notice")),
        sa.UniqueConstraint("certificate_id", "kind", "expires_on", name="uq_certificate_notice_once"),
    )
    with op.batch_alter_table("certificate_notice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificate_notice_certificate_id"), ["certificate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificate_notice_vendor_id"), ["vendor_id"], unique=False)

    op.create_table(
        "listing_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("details", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("resolution", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.CheckConstraint(
            "kind IN ('wrong_photo', 'not_halal', 'bad_quality', 'other')", name=op.f("ck_listing_report_kind_known")
        ),
        sa.CheckConstraint("status IN ('open', 'resolved')", name=op.f("ck_listing_report_status_known")),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name=op.f("fk_listing_report_product_id_product")),
        sa.ForeignKeyConstraint(["reporter_id"], ["user.id"], name=op.f("fk_listing_report_reporter_id_user")),
        sa.ForeignKeyConstraint(["resolved_by_id"], ["user.id"], name=op.f("fk_listing_report_resolved_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_report")),
    )
    with op.batch_alter_table("listing_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_listing_report_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_listing_report_status"), ["status"], unique=False)

    _forbid_audit_updates()


# The audit log is append-only: the database itself refuses to change a recorded entry.
def _forbid_audit_updates() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_entry_is_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'the audit log is append-only'; END;
            $$ LANGUAGE plpgsql
        """)
        op.execute("""
            CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
            FOR EACH ROW EXECUTE FUNCTION audit_entry_is_append_only()
        """)
    else:
        op.execute("""
            CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
        """)


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS audit_entry_no_update"
        + (" ON audit_entry" if op.get_bind().dialect.name == "postgresql" else "")
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_entry_is_append_only()")
    with op.batch_alter_table("listing_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_listing_report_status"))
        batch_op.drop_index(batch_op.f("ix_listing_report_product_id"))

    op.drop_table("listing_report")
    with op.batch_alter_table("certificate_notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_notice_vendor_id"))
        batch_op.drop_index(batch_op.f("ix_certificate_notice_certificate_id"))

    op.drop_table("certificate_notice")
    with op.batch_alter_table("vendor_invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vendor_invitation_zone_id"))
        batch_op.drop_index(batch_op.f("ix_vendor_invitation_phone"))

    op.drop_table("vendor_invitation")
    with op.batch_alter_table("register_import", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_register_import_zone_id"))

    op.drop_table("register_import")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entry_zone_at")
        batch_op.drop_index(batch_op.f("ix_audit_entry_action"))

    op.drop_table("audit_entry")

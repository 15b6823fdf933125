"""training: programmes, cohorts and attendees kept by the zone's managers, attendance list imports, verified
completions shown as badges

Revision ID: 0029
Revises: 0030
Create Date: 2026-12-03 16:24:48.054161
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0029"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "training_programme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("organiser", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('meat_processing', 'food_processing', 'entrepreneurship', 'tkm_group', 'halal_assistance', 'packaging', 'other')",
            name=op.f("ck_training_programme_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["user.id"], name=op.f("fk_training_programme_created_by_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["zone_id"], ["zone.id"], name=op.f("fk_training_programme_zone_id_zone")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_programme")),
    )
    op.create_index(op.f("ix_training_programme_zone_id"), "training_programme", ["zone_id"], unique=False)
    op.create_table(
        "training_cohort",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("place", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name=op.f("ck_training_cohort_dates_in_order")),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["training_programme.id"], name=op.f("fk_training_cohort_programme_id_training_programme")
        ),
        sa.ForeignKeyConstraint(["zone_id"], ["zone.id"], name=op.f("fk_training_cohort_zone_id_zone")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_cohort")),
    )
    op.create_index(op.f("ix_training_cohort_programme_id"), "training_cohort", ["programme_id"], unique=False)
    op.create_index(op.f("ix_training_cohort_zone_id"), "training_cohort", ["zone_id"], unique=False)
    op.create_table(
        "training_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["training_cohort.id"], name=op.f("fk_training_import_cohort_id_training_cohort")
        ),
        sa.ForeignKeyConstraint(["manager_id"], ["user.id"], name=op.f("fk_training_import_manager_id_user")),
        sa.ForeignKeyConstraint(["zone_id"], ["zone.id"], name=op.f("fk_training_import_zone_id_zone")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_import")),
    )
    op.create_index(op.f("ix_training_import_cohort_id"), "training_import", ["cohort_id"], unique=False)
    op.create_table(
        "training_attendee",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("full_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("business_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("nib", sqlmodel.sql.sqltypes.AutoString(length=13), nullable=True),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("certificate_number", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("verified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("verified_by", sa.Integer(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("phone IS NOT NULL OR nib IS NOT NULL", name=op.f("ck_training_attendee_identified")),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["training_cohort.id"], name=op.f("fk_training_attendee_cohort_id_training_cohort")
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["training_import.id"],
            name=op.f("fk_training_attendee_import_id_training_import"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["vendor_invitation.id"],
            name=op.f("fk_training_attendee_invitation_id_vendor_invitation"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_training_attendee_user_id_user")),
        sa.ForeignKeyConstraint(
            ["verified_by"], ["user.id"], name=op.f("fk_training_attendee_verified_by_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["zone_id"], ["zone.id"], name=op.f("fk_training_attendee_zone_id_zone")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_attendee")),
        sa.UniqueConstraint("cohort_id", "nib", name="uq_training_attendee_cohort_nib"),
        sa.UniqueConstraint("cohort_id", "phone", name="uq_training_attendee_cohort_phone"),
    )
    op.create_index(op.f("ix_training_attendee_cohort_id"), "training_attendee", ["cohort_id"], unique=False)
    op.create_index(op.f("ix_training_attendee_phone"), "training_attendee", ["phone"], unique=False)
    op.create_index(op.f("ix_training_attendee_user_id"), "training_attendee", ["user_id"], unique=False)
    op.create_index(op.f("ix_training_attendee_zone_id"), "training_attendee", ["zone_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_training_attendee_zone_id"), table_name="training_attendee")
    op.drop_index(op.f("ix_training_attendee_user_id"), table_name="training_attendee")
    op.drop_index(op.f("ix_training_attendee_phone"), table_name="training_attendee")
    op.drop_index(op.f("ix_training_attendee_cohort_id"), table_name="training_attendee")
    op.drop_table("training_attendee")
    op.drop_index(op.f("ix_training_import_cohort_id"), table_name="training_import")
    op.drop_table("training_import")
    op.drop_index(op.f("ix_training_cohort_zone_id"), table_name="training_cohort")
    op.drop_index(op.f("ix_training_cohort_programme_id"), table_name="training_cohort")
    op.drop_table("training_cohort")
    op.drop_index(op.f("ix_training_programme_zone_id"), table_name="training_programme")
    op.drop_table("training_programme")

"""product photo positions: each position of a product's photos taken once, and only 0 to 4 (five photos)

Uploads that arrived together could each count four photos and add one, and take the same position. Before the
constraints are added, each product's photos are numbered again from 0 in their order (position, then age) and
those beyond the fifth are removed: they were over the limit (their files stay in the media folder, where keys
are content hashes). The downgrade drops the constraints; it leaves the new numbering and cannot bring back
removed rows.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAX_PHOTOS = 5  # backend.catalog.models.MAX_PHOTOS when this was written


def upgrade() -> None:
    connection = op.get_bind()
    photos = connection.execute(
        sa.text("SELECT id, product_id, position FROM product_photo ORDER BY product_id, position, id")
    ).all()
    renumbered: list[dict[str, int]] = []
    over_the_limit: list[dict[str, int]] = []
    previous_product, next_position = None, 0
    for photo_id, product_id, position in photos:
        if product_id != previous_product:
            previous_product, next_position = product_id, 0
        if next_position >= MAX_PHOTOS:
            over_the_limit.append({"id": photo_id})
        elif position != next_position:
            renumbered.append({"id": photo_id, "position": next_position})
        next_position += 1
    if over_the_limit:
        connection.execute(sa.text("DELETE FROM product_photo WHERE id = :id"), over_the_limit)
    if renumbered:
        connection.execute(sa.text("UPDATE product_photo SET position = :position WHERE id = :id"), renumbered)

    with op.batch_alter_table("product_photo", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_product_photo_product_position", ["product_id", "position"])
        batch_op.create_check_constraint(
            op.f("ck_product_photo_position_within_limit"), f"position >= 0 AND position < {MAX_PHOTOS}"
        )


def downgrade() -> None:
    with op.batch_alter_table("product_photo", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_product_photo_position_within_limit"), type_="check")
        batch_op.drop_constraint("uq_product_photo_product_position", type_="unique")

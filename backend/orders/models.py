"""Orders' tables. So far: the capacity a made-to-order vendor has promised per delivery day."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel


class CapacityDay(SQLModel, table=True):
    """How much of a vendor's daily capacity is held by orders for one delivery day (local date, WIB).

    A row appears with the first hold of the day, copying the vendor's daily capacity; what is left is
    `capacity - held`. Holds are conditional updates (orders.capacity), and the CHECK makes an oversell
    impossible even for a statement that forgot the condition.
    """

    __tablename__ = "capacity_day"
    __table_args__ = (
        CheckConstraint("held >= 0 AND held <= capacity", name="held_within_capacity"),
    )

    vendor_id: int = Field(foreign_key="vendor.id", primary_key=True, ondelete="CASCADE")
    day: date = Field(primary_key=True)
    capacity: int
    held: int = 0

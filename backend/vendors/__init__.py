"""Vendor profiles: the business, its location, delivery radius, opening days and capacity."""

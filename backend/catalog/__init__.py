"""Products, photos, prices and tiers, listing states."""

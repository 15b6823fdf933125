"""Users, roles, zones, canteen organisations, sessions and API tokens."""

"""Users, roles, login."""

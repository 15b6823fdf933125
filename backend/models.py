"""Every table of the application, imported in one place for Alembic and the test suite."""

from backend.accounts.models import ApiToken, AuthSession, LoginAttempt, Organisation, User, Zone

__all__ = ["ApiToken", "AuthSession", "LoginAttempt", "Organisation", "User", "Zone"]

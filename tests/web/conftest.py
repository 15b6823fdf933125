"""The ordering stories' people and shops (tests/orders/conftest.py), for the pages that order."""

from tests.orders.conftest import catering, ordering  # noqa: F401  (fixtures)

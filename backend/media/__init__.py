"""Uploaded photos and documents: validation, re-encoding, storage."""

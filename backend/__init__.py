"""Pasar Kawasan: a marketplace for certified local products in Indonesian industrial zones."""

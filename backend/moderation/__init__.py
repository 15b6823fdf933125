"""Market managers: review queue, decisions, certificate verification, suspensions, reports, audit log,
certificate expiry, and the UMKM register import."""

"""Adapters to the outside: blob storage (local, S3) and its encryption, data keys, Redis and RQ connections, rate-limit counters, logs, metrics, signed tokens, QR images, CSV cell encoding, outgoing-address rules."""

__all__: list[str] = []
"""The modules are imported by name; the package itself exports nothing."""

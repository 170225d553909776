"""Background loops and passes: the outbox sweeper, the stuck-job watchdog, retention purges, the records sweep, key rotation (rewrap)."""

__all__: list[str] = []
"""The modules are imported by name; the package itself exports nothing."""

"""Background loops and passes: the outbox sweeper, the stuck-job watchdog, retention purges, the records sweep, key rotation (rewrap)."""

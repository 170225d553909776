"""RQ jobs and the worker entry point (`certify worker`)."""

__all__: list[str] = []
"""The modules are imported by name; the package itself exports nothing."""

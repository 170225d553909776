"""Pure rules with no I/O: national ID numbers, region codes, certification periods, showing names."""

__all__: list[str] = []
"""The modules are imported by name; the package itself exports nothing."""

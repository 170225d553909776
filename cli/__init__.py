"""The `certify` command line: main.py assembles the commands of operations.py,
administration.py, agency_remote.py and check.py (context.py builds the services)."""

__all__: list[str] = []

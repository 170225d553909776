"""The `certify` command line."""

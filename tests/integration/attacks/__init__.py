"""Attack tests: each one replays a request that an attacker used against a running
instance (issue 10 and later findings) against the real app over HTTP (uvicorn on a
local port, the real Redis server, SQLite and PostgreSQL), and asserts the answer it
gets now. A new finding adds a test here, in the module for its kind of hole.
"""

"""Process wiring: configuration, Temporal connection, worker, embedded stack and CLI."""

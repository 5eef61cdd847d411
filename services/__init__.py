"""The service layer both the HTTP API and the web UI call: one place for case operations."""

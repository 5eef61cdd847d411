"""The SQL read model: case projections, tasks, timeline/audit events, prevention tasks, users."""

"""SQLite storage: the repositories behind the services' ports."""

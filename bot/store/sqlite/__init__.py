"""SQLite's writer process and its client."""

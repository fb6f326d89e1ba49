"""SQLite on a file: the writer process, its client, and the WAL checkpointer."""

"""SQLite on a file: the writer process, its client, the queue's backend on it, the WAL checkpointer."""

"""Talking to GitHub: the App and installation clients, the write budget."""

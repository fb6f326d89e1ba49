"""The messages people read: Markdown templates rendered in Jinja2's sandbox (see bot/render.py)."""

"""The web face: the app factory, the webhook view, metrics, the setup page."""

"""Admin screens of the bots app."""

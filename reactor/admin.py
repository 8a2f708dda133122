"""Admin screens of the reactor app."""

"""Admin screens of the gateway app."""

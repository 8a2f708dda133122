"""Admin screens of the memory app."""

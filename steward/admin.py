"""Admin screens of the steward app."""

"""Admin screens of the dispositions app."""

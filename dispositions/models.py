"""Models of the dispositions app."""

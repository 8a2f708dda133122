"""Models of the reactor app."""

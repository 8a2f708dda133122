"""Models of the gateway app."""

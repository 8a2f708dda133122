"""Models of the memory app."""

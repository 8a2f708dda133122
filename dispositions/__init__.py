"""Personas, dispositions, the router and its decision log."""

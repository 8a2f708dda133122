"""Steward skills: the walled-garden skill registry and server stewardship."""

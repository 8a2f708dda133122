"""Test helpers shared by every app (local servers under tests/servers/)."""

"""Bots: manifests, typed settings, the host harness and the platform adapters."""

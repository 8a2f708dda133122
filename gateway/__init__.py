"""The model gateway: OpenAI-compatible, purpose-routed, budgeted."""

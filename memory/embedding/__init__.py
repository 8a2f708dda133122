"""Embeddings: the local MiniLM encoder, the provider interface, and offline token counting."""

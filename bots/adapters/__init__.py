"""Platform adapters: the neutral interface in `base`, one module per platform (only these import its SDK)."""

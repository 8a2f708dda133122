"""The stages of a turn, one module each, in the order `bots.host.pipeline` runs them."""

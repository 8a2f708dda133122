"""The model gateway: OpenAI-compatible, purpose-routed, budgeted.

Callers use the in-process client in `gateway.client` (`GATEWAY`, or the functions `complete`, `stream`,
`embed`, `budget_remaining_fraction`), which goes over HTTP instead when DIT_GATEWAY_URL is set.
"""

"""The host harness: what makes a bot really run on a platform.

Inbound messages are ingested, checked (preflight), merged (fragments) and queued per channel; each turn
is routed to a disposition, synthesized in one model call and dispatched beat by beat, with every decision
and every outbound beat recorded. Awareness is guild-wide; execution is serialized per channel.
"""

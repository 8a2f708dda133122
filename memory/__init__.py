"""Guild-wide layered memory: transcripts, highlights, lore, archive, epochs."""

"""Exact inference: the compiled engine, back pain's exact handling, pgmpy's reference queries."""

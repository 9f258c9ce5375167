"""Batch scoring: DataFrames in memory, and files streamed through worker processes."""

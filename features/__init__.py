"""Pure-Python feature logic (no Flink import): windows, trending scores, user profiles."""

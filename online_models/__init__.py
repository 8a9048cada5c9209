"""Pure-Python recommendation models (no Flink import)."""

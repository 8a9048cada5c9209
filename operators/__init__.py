"""Thin Flink adapters: load state, call the pure logic in features/ and online_models/, store."""

"""Serving: loader (Kafka -> rocksdict), store, gRPC servicer and server."""

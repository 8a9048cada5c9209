"""Running the parts: the local stack (Kafka, the job, the server) as processes, and the
clients of the contracts (the event producer, the gRPC client)."""

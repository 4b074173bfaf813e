"""The event: what the rules, the health checks and the outbox emit, the store keeps and notifiers word."""

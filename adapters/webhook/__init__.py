"""The generic webhook: one signed, versioned JSON document per outbox message, to any HTTPS endpoint."""

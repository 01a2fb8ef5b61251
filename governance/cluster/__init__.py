"""Running on more than one host: read replicas (routing), and the loopback cluster check."""

"""The Ray layer: partition actors, the router and channel senders (built by the runtime issue)."""

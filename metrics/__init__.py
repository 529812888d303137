"""musebench.metrics."""

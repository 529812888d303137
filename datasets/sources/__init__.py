"""musebench.datasets.sources."""

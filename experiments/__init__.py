"""musebench.experiments."""

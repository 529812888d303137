"""musebench.models."""

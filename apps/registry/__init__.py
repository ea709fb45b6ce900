"""apps/registry."""

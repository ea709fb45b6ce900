"""apps/weighing."""

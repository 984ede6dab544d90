"""Models arrive with the messaging issue; see shared/README.md for the design."""

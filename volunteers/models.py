"""Models arrive with the volunteers issue; see shared/README.md for the design."""

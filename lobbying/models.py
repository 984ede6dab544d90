"""Models arrive with the lobbying issue; see shared/README.md for the design."""

"""Performance measurements at conference scale. Run with `make bench` (python -m bench)."""

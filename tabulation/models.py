"""The data: see docs and ARCHITECTURE.md. Models arrive with the election model."""

"""Reads: querysets and ready-made read models."""

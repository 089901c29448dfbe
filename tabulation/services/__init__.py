"""Writes: one transaction each, one audit entry each, work enqueued on commit."""

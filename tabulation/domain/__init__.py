"""The law of the count, as pure Python.

Nothing here imports Django, DRF or Celery (tests/domain/test_purity.py
enforces it): plain frozen dataclasses in, plain frozen dataclasses out, so
the web, the workers and the command line share one implementation.
"""

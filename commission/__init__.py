# Load the Celery app whenever Django starts, so that tasks bind to it.
from commission.celery import app as celery_app

__all__ = ("celery_app",)

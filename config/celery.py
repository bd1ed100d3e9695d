"""The Celery app. Broker: Redis when CELERY_BROKER_URL is set, otherwise kombu's
filesystem transport under var/celery (a real worker, no server to install)."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("careful")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

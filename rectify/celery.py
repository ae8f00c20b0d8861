import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rectify.settings")

app = Celery("rectify")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Background work lives in each app's jobs.py: "task" means a rectification task here.
app.autodiscover_tasks(related_name="jobs")

import pytest


def test_every_scheduled_job_can_be_sent_as_beat_sends_it(settings):
    """Beat applies the task's own options: limits that contradict the defaults must fail here,
    not at 09:00 in production."""
    from unittest import mock

    from rectify.celery import app

    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        task = app.tasks[entry["task"]]
        with mock.patch.object(app, "send_task"), mock.patch("kombu.Producer.publish"):
            try:
                task.apply_async(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}))
            except ValueError as exc:
                pytest.fail(f"{name}: {exc}")

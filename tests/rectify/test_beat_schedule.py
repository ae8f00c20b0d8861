from unittest import mock

from rectify.celery import app


def _ours() -> dict:
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if name.split(".")[0] in {"rectify", "tasks", "reports", "accountability"}}


def test_every_job_has_a_soft_limit_below_its_hard_limit():
    """Celery refuses to send a job whose soft limit exceeds its hard one, and beat only logs it."""
    conf = app.conf
    wrong = [
        name for name, task in _ours().items()
        if (task.soft_time_limit or conf.task_soft_time_limit) > (task.time_limit or conf.task_time_limit)
    ]
    assert _ours() and wrong == []


def test_every_scheduled_job_can_be_sent_as_beat_sends_it(settings):
    """Beat applies the task's own options: limits that contradict the defaults must fail here,
    not at 09:00 in production."""
    failures = []
    app.loader.import_default_modules()  # every app's jobs.py, whatever ran before in this process
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    try:
        with mock.patch("kombu.Producer.publish"):
            _send_all(settings, failures)
    finally:
        app.conf.task_always_eager = eager
    assert failures == []


def _send_all(settings, failures: list[str]) -> None:
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        task = app.tasks[entry["task"]]
        try:
            task.apply_async(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}))
        except ValueError as exc:
            failures.append(f"{name}: {exc}")

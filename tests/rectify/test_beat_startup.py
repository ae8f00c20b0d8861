"""Beat queues the catch-up on its first tick, once: a fresh `make run` shows a dispatch, a
bulletin and the day's reminders within a minute or two, not at the next quarter hour (issue 18)."""

from __future__ import annotations

from kombu.exceptions import OperationalError

from rectify.beat import HeartbeatScheduler


class _App:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[str] = []
        self.fail = fail

    def send_task(self, name: str) -> None:
        if self.fail:
            raise OperationalError("broker down")
        self.sent.append(name)


def _ticks(scheduler: HeartbeatScheduler, n: int, monkeypatch) -> None:
    from celery.beat import PersistentScheduler

    monkeypatch.setattr(PersistentScheduler, "tick", lambda self, *a, **k: 5.0)
    monkeypatch.setattr("rectify.liveness.heartbeat_write", lambda **k: True)
    for _ in range(n):
        scheduler.tick()


def test_the_first_tick_queues_the_catch_up_once(monkeypatch):
    scheduler = HeartbeatScheduler.__new__(HeartbeatScheduler)  # no schedule file needed
    scheduler.app = _App()
    _ticks(scheduler, 3, monkeypatch)
    assert scheduler.app.sent == ["reports.jobs.catch_up"]


def test_a_broker_down_at_start_does_not_stop_beat(monkeypatch, caplog):
    scheduler = HeartbeatScheduler.__new__(HeartbeatScheduler)
    scheduler.app = _App(fail=True)
    _ticks(scheduler, 2, monkeypatch)
    assert "broker down" in caplog.text

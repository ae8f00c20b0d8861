"""The Shanxi plan, loaded once per session and replayed into each test in a few bulk inserts.

`plan_load` writes the plan row by row through the services (about 3,800 queries, ~1.6 CPU-s);
done for each of ~560 tests that was most of the suite's time. Instead the session loads it once
inside a transaction that is rolled back, keeps every row it wrote (table by table, raw column
values), and each test that asks for `plan` inserts those rows again with `bulk_create`: the
same rows with the same ids as a real load into an empty database, in one transaction, so it
works for rolled-back tests and for `transactional_db` / `live_server` / real-worker tests
alike (after a flush the next test gets the plan again the same way).

Times the load took from the clock (a task's "created" history entry, created_at) are moved
to the time of the replay, as a real load at that moment would have written them.

The role groups and their permissions are not replayed: a flush recreates permissions with new
ids, so `roles_ensure()` runs for real each time (a few dozen queries).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from tasks.models import Plan
from tasks.plan_loading import plan_load

# Tables the replay leaves alone: rebuilt by migrations/post_migrate (content types,
# permissions) or by roles_ensure() (groups), or never written by a plan load.
SKIPPED_APPS = {"auth", "contenttypes", "sessions", "admin"}


def _replayed_models() -> list[type[models.Model]]:
    return [
        model for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy and model._meta.app_label not in SKIPPED_APPS
    ]


@dataclass(frozen=True)
class PlanSnapshot:
    plan_pk: int
    taken_from: dt.datetime  # the clock while the real load ran
    taken_until: dt.datetime
    # (model, [{attname: value}, …]) in the order the tables were found
    tables: tuple[tuple[type[models.Model], tuple[dict[str, Any], ...]], ...]

    @property
    def row_count(self) -> int:
        return sum(len(rows) for _, rows in self.tables)

    def replay(self) -> Plan:
        """Insert the plan's rows into the current database (inside one transaction, so the
        deferred foreign keys are checked once, at the end)."""
        shift = timezone.now() - self.taken_from
        with transaction.atomic():
            for model, rows in self.tables:
                objects = [model(**{k: self._moved(v, shift) for k, v in row.items()}) for row in rows]
                model._base_manager.bulk_create(objects, batch_size=500)
            # PostgreSQL sequences do not move for explicit ids; SQLite's do by themselves.
            statements = connection.ops.sequence_reset_sql(no_style(), [m for m, _ in self.tables])
            if statements:
                with connection.cursor() as cursor:
                    for sql in statements:
                        cursor.execute(sql)
        return Plan.objects.get(pk=self.plan_pk)

    def replay_max_pk(self, model: type[models.Model]) -> int:
        """The highest id of `model` the replay writes (0 if none)."""
        pks = [row[model._meta.pk.attname] for m, rows in self.tables if m is model for row in rows]
        return max(pks, default=0)

    def _moved(self, value: Any, shift: dt.timedelta) -> Any:
        if isinstance(value, dt.datetime) and self.taken_from <= value <= self.taken_until:
            return value + shift
        return value


def _columns(model: type[models.Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


def plan_snapshot_take(*, data: dict[str, Any]) -> PlanSnapshot:
    """Load the plan for real, record every row it wrote, and roll the load back."""
    replayed = _replayed_models()
    with transaction.atomic():
        before = {m: set(m._base_manager.values_list("pk", flat=True)) for m in replayed}
        taken_from = timezone.now()
        plan, created = plan_load(data=data)
        taken_until = timezone.now()
        if not created:
            raise RuntimeError(
                f"the test database already holds plan {plan.code!r} before any test ran; "
                "run once with --create-db"
            )
        tables = []
        for model in replayed:
            cols = _columns(model)
            rows = tuple(
                row for row in model._base_manager.order_by("pk").values(*cols)
                if row[model._meta.pk.attname] not in before[model]
            )
            if rows:
                tables.append((model, rows))
        snapshot = PlanSnapshot(plan_pk=plan.pk, taken_from=taken_from, taken_until=taken_until,
                                tables=tuple(tables))
        transaction.set_rollback(True)
    return snapshot

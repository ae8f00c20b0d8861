"""What the public page shows of a result (向社会公开), frozen when the publicity group approves it.

The public page reads the frozen copy only, never the case: editing the case's title or adding
a person after approval changes nothing public. Such a change turns the result back into a
draft for the publicity group (services.public_result_sources_changed); the approved copy keeps
showing until the new draft is approved.

The copy is plain JSON with codes, not labels, so it shows in the reader's language.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy as _

from accountability.models import Case, Outcome, PublicField, PublicResult, Rank
from accountability.resolve import region_label


def public_entry_freeze(result: PublicResult, case: Case) -> dict[str, Any]:
    """Exactly what would be published of `result` now: only the released fields are read."""
    released = [f for f in PublicField.values if f in set(result.released_fields)]
    persons = sorted(case.persons.all(), key=lambda p: p.pk)
    readers = {
        PublicField.REFERENCE: lambda: case.reference,
        PublicField.TITLE: lambda: case.title,
        PublicField.REGION: lambda: region_label(case.region),
        PublicField.UNITS: lambda: [u.name for u in case.units.all()],
        PublicField.HANDLING_AUTHORITY: lambda: case.handling_authority,
        PublicField.PERSONS_COUNT: lambda: len(persons),
        PublicField.OUTCOMES: lambda: [{"rank": p.rank, "outcome": p.outcome} for p in persons],
        PublicField.PERSON_NAMES: lambda: [f"{p.name}({p.position})" for p in persons],
        PublicField.DECIDED_ON: lambda: max(
            (p.decided_on.isoformat() for p in persons if p.decided_on), default=None
        ),
    }
    entry: dict[str, Any] = {"summary": result.summary, "released": released}
    for name in released:  # only what the decision released; nothing else is even read out
        entry[name] = readers[PublicField(name)]()
    return entry


def public_entry_display(
    frozen: dict[str, Any], *, result_id: int, published_on: dt.date | None,
) -> dict[str, Any]:
    """A frozen copy as the templates show it: labels in the reader's language, real dates."""
    ranks, outcomes = dict(Rank.choices), dict(Outcome.choices)
    entry = {k: v for k, v in frozen.items() if k != "released"}
    entry.update({"id": result_id, "published_on": published_on})
    if PublicField.OUTCOMES in entry:
        entry[PublicField.OUTCOMES] = [
            {"rank": ranks.get(o["rank"], o["rank"]), "outcome": outcomes.get(o["outcome"], o["outcome"])}
            for o in entry[PublicField.OUTCOMES]
        ]
    if entry.get(PublicField.DECIDED_ON):
        entry[PublicField.DECIDED_ON] = dt.date.fromisoformat(entry[PublicField.DECIDED_ON])
    entry["released"] = [(f, PUBLIC_LABELS.get(f, PublicField(f).label)) for f in frozen["released"]]
    return entry


# The choice labels speak to the publicity group deciding what to release ("不含姓名" tells
# them names stay out); the public reads plain headings instead.
PUBLIC_LABELS = {PublicField.OUTCOMES: _("处理结果")}

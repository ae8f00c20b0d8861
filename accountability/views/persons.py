"""Persons held accountable: add, correct, remove (before the decision is carried out)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accountability.access import access_record, case_open, cases_visible_to
from accountability.forms import PersonForm, VersionedForm
from accountability.models import AccountablePerson, Case, CaseAccessLog
from accountability.services import person_delete, person_save

from .common import error_text, register_login_required, require_handler


def _person_open(request: HttpRequest, pk: int) -> AccountablePerson:
    person = (
        AccountablePerson.objects.filter(case__in=cases_visible_to(request.user))
        .select_related("case").filter(pk=pk).first()
    )
    if person is None:
        hit = AccountablePerson.objects.filter(pk=pk).values_list("case_id", flat=True).first()
        access_record(request, action=CaseAccessLog.Action.CHANGE, granted=False,
                      case=Case.objects.filter(pk=hit).first() if hit else None, requested=f"person:{pk}")
        raise Http404(_("没有找到该页面。"))
    access_record(request, action=CaseAccessLog.Action.CHANGE, granted=True, case=person.case,
                  requested=f"person:{pk}")
    return person


def _person_form_page(request, case, form, person, error="", status=200):
    return render(request, "accountability/person_form.html",
                  {"case": case, "form": form, "person": person, "error": error}, status=status)


def _save(request: HttpRequest, case: Case, person: AccountablePerson | None) -> HttpResponse:
    initial = {"version": case.version}
    if person is not None:
        initial |= {f: getattr(person, f) for f in ("name", "position", "rank", "unit_name", "outcome",
                                                    "decided_on", "deciding_body")}
    form = PersonForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method != "POST":
        return _person_form_page(request, case, form, person)
    if not form.is_valid():
        return _person_form_page(request, case, form, person, status=400)
    d = form.cleaned_data
    try:
        person_save(case=case, actor=request.user, person=person, name=d["name"], position=d["position"],
                    rank=d["rank"], unit_name=d["unit_name"], outcome=d["outcome"],
                    decided_on=d["decided_on"], deciding_body=d["deciding_body"],
                    expected_version=d["version"])
    except ValidationError as exc:
        return _person_form_page(request, case, form, person, error=error_text(exc), status=400)
    return redirect("accountability:detail", case.pk)


@register_login_required("case:{pk}")
def person_new(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_open(request, pk, action=CaseAccessLog.Action.CHANGE)
    require_handler(request)
    return _save(request, case, None)


@register_login_required("person:{pk}")
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person_open(request, pk)
    require_handler(request)
    return _save(request, person.case, person)


@require_POST
@register_login_required("person:{pk}")
def person_remove(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person_open(request, pk)
    require_handler(request)
    posted = VersionedForm(request.POST)  # "²".isdigit() is True, and int() refuses it
    try:
        if not posted.is_valid():
            raise ValidationError(posted.non_field_errors())
        person_delete(person=person, actor=request.user, expected_version=posted.cleaned_data["version"])
    except ValidationError as exc:
        form = PersonForm(initial={f: getattr(person, f) for f in ("name", "position", "rank", "unit_name",
                                                                  "outcome", "decided_on", "deciding_body")}
                          | {"version": person.case.version})
        return _person_form_page(request, person.case, form, person, error=error_text(exc), status=400)
    return redirect("accountability:detail", person.case_id)

"""信息公开 for the publicity group: review the weekly draft, edit its intro, approve it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rectify.i18n import date_long
from reports import services
from reports.forms import PublicationIntroForm
from reports.models import Publication
from reports.selectors import publications_for_review, user_approves_publications
from reports.views.access import require_publication_approver, require_publication_editor


@login_required
@require_GET
def publication_list(request: HttpRequest) -> HttpResponse:
    require_publication_editor(request.user)
    return render(request, "reports/publications.html", {
        "publications": publications_for_review(user=request.user).select_related("approved_by")[:60],
    })


@login_required
@require_POST
def publication_draft(request: HttpRequest) -> HttpResponse:
    require_publication_editor(request.user)
    try:
        publication, created = services.publication_draft()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("reports:publications")
    if not created:
        messages.info(request, _("本周公开稿已存在。"))
    return redirect("reports:publication", publication.pk)


@login_required
@require_http_methods(["GET", "POST"])
def publication_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_publication_editor(request.user)
    publication = get_object_or_404(publications_for_review(user=request.user).select_related("approved_by"), pk=pk)
    form = PublicationIntroForm(request.POST if request.method == "POST" else None, initial={"intro": publication.intro})
    if request.method == "POST" and form.is_valid():
        try:
            services.publication_update(publication=publication, intro=form.cleaned_data["intro"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("导语已保存。"))
        return redirect("reports:publication", publication.pk)
    return render(request, "reports/publication_detail.html", {
        "publication": publication, "p": publication.snapshot, "form": form,
        "can_approve": user_approves_publications(request.user),
    })


@login_required
@require_POST
def publication_approve(request: HttpRequest, pk: int) -> HttpResponse:
    require_publication_approver(request.user)
    publication = get_object_or_404(Publication, pk=pk)
    try:
        services.publication_approve(publication=publication, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已审核发布,将于%(day)s起在公开页面显示。") % {
            "day": date_long(publication.publish_on)})
    return redirect("reports:publication", publication.pk)

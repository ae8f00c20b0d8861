from django.urls import path

from tasks.views import (
    dashboard,
    evidence,
    excel,
    extension,
    league,
    ledger,
    mytasks,
    office,
    progress,
    signoff,
    supervision,
    task_page,
    timeline,
)

app_name = "tasks"
urlpatterns = [
    path("", ledger.ledger, name="ledger"),
    path("export.xlsx", excel.ledger_export, name="ledger_export"),
    path("<int:pk>/", task_page.task_detail, name="detail"),
    path("mine/", mytasks.my_task_list, name="mytasks"),
    path("queue/", office.office_queue, name="office_queue"),
    path("<int:pk>/report/", progress.report_file, name="report"),
    path("<int:pk>/signoff/apply/", signoff.apply, name="signoff_apply"),
    path("<int:pk>/signoff/review/", signoff.review, name="signoff_review"),
    path("<int:pk>/signoff/verify/", signoff.verify, name="signoff_verify"),
    path("<int:pk>/signoff/return/", signoff.return_, name="signoff_return"),
    path("<int:pk>/signoff/close/", signoff.close, name="signoff_close"),
    path("<int:pk>/extension/", extension.request_new, name="extension_new"),
    path("extensions/<int:pk>/decide/", extension.decide, name="extension_decide"),
    path("evidence/<int:pk>/", evidence.evidence_download, name="evidence_download"),
    path("overview/", dashboard.overview, name="overview"),
    path("league/units/", league.units, name="league_units"),
    path("league/regions/", league.regions, name="league_regions"),
    path("units/<int:pk>/", league.unit_detail, name="unit"),
    path("timeline/", timeline.timeline, name="timeline"),
    path("supervision/", supervision.supervision_list, name="supervision_list"),
    path("supervision/new/", supervision.supervision_new, name="supervision_new"),
    path("supervision/<int:pk>/lift/", supervision.supervision_lift_view, name="supervision_lift"),
]

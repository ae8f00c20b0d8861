from django.urls import path

from tasks.views import dashboard, league, ledger, supervision, timeline

app_name = "tasks"
urlpatterns = [
    path("", ledger.ledger, name="ledger"),
    path("<int:pk>/", ledger.task_detail, name="detail"),
    path("overview/", dashboard.overview, name="overview"),
    path("league/units/", league.units, name="league_units"),
    path("league/regions/", league.regions, name="league_regions"),
    path("units/<int:pk>/", league.unit_detail, name="unit"),
    path("timeline/", timeline.timeline, name="timeline"),
    path("supervision/", supervision.supervision_list, name="supervision_list"),
    path("supervision/new/", supervision.supervision_new, name="supervision_new"),
    path("supervision/<int:pk>/lift/", supervision.supervision_lift_view, name="supervision_lift"),
]

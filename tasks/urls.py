from django.urls import path

from tasks.views import excel, ledger

app_name = "tasks"
urlpatterns = [
    path("", ledger.ledger, name="ledger"),
    path("<int:pk>/", ledger.task_detail, name="detail"),
    path("export.xlsx", excel.ledger_export, name="ledger_export"),
]

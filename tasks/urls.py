from django.urls import path

from tasks.views import ledger

app_name = "tasks"
urlpatterns = [
    path("", ledger.ledger, name="ledger"),
    path("<int:pk>/", ledger.task_detail, name="detail"),
]

from django.urls import path

from tasks import views

app_name = "tasks"
urlpatterns = [
    path("", views.ledger, name="ledger"),
    path("<int:pk>/", views.task_detail, name="detail"),
]

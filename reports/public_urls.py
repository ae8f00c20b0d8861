from django.urls import path

from reports.views import public

app_name = "public"
urlpatterns = [
    path("", public.public_page, name="home"),
    path("notices/<int:pk>/", public.objection_new, name="objection"),
]

from django.urls import path

from reports.views import archive, outbox, publications

app_name = "reports"
urlpatterns = [
    path("", archive.archive, name="archive"),
    path("<int:pk>/", archive.report_detail, name="detail"),
    path("<int:pk>/original/", archive.report_original, name="original"),
    path("<int:pk>/xlsx/", archive.report_xlsx, name="xlsx"),
    path("<int:pk>/snapshot/", archive.report_snapshot, name="snapshot"),
    path("<int:pk>/resend/", archive.report_resend, name="resend"),
    path("preview/<str:kind>/", archive.report_preview, name="preview"),
    path("issue/<str:kind>/", archive.report_issue, name="issue"),
    path("outbox/", outbox.outbox, name="outbox"),
    path("publications/", publications.publication_list, name="publications"),
    path("publications/draft/", publications.publication_draft, name="publication_draft"),
    path("publications/<int:pk>/", publications.publication_detail, name="publication"),
    path("publications/<int:pk>/approve/", publications.publication_approve, name="publication_approve"),
]

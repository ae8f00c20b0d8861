from django.urls import path

from accountability.views import cases, documents, figures, imports, log, persons, publication, stages

app_name = "accountability"
urlpatterns = [
    path("", cases.case_index, name="list"),
    path("export.xlsx", cases.case_export, name="export"),
    path("new/", cases.case_new, name="new"),
    path("<int:pk>/", cases.case_detail, name="detail"),
    path("<int:pk>/edit/", cases.case_edit, name="edit"),
    path("<int:pk>/advance/", stages.stage_advance, name="advance"),
    path("<int:pk>/return/", stages.stage_return, name="return"),
    path("<int:pk>/persons/new/", persons.person_new, name="person_new"),
    path("persons/<int:pk>/edit/", persons.person_edit, name="person_edit"),
    path("persons/<int:pk>/delete/", persons.person_remove, name="person_delete"),
    path("<int:pk>/documents/", documents.document_upload, name="document_upload"),
    path("documents/<int:pk>/", documents.document_download, name="document_download"),
    path("<int:pk>/public/", publication.public_result_edit, name="public_result"),
    path("publication/", publication.review_list, name="review_list"),
    path("publication/<int:pk>/approve/", publication.review_approve, name="review_approve"),
    path("publication/<int:pk>/reject/", publication.review_reject, name="review_reject"),
    path("figures/", figures.figures, name="figures"),
    path("log/", log.log_list, name="log"),
    path("import/", imports.import_upload, name="import"),
    path("import/confirm/", imports.import_confirm, name="import_confirm"),
]

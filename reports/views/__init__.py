"""Views of the reports app, one module per feature: archive, outbox, publications, public page."""

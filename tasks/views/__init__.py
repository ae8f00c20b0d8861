"""Views of the tasks app, one module per feature (ledger, progress, sign-off, …)."""

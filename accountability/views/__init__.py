"""Views of the accountability register, one module per feature."""

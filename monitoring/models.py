"""Models of this app (see the app README in the top-level README)."""

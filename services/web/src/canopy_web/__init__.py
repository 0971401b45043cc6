"""Canopy's web client: a backend-for-frontend serving pages to browsers (docs/architecture.md
§18)."""

"""The explorer page's static files (package data, served by qualkg.api.routes.explorer)."""

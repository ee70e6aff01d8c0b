"""The dashboard, its JSON API and the Prometheus exposition, served by the daemon."""

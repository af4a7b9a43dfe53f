"""The studio: static files of the Russian one-page front end (see api.endpoints.studio)."""

from servicekit import db_settings, pg_url, session  # noqa: F401 - fixtures

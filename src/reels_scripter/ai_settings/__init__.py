"""The studio's AI settings: the provider, key, model and server a creator connects from the
page (`GET`/`PUT /api/settings/ai`), kept in the database with the key encrypted, and read by
every new job (API and workers) without a restart. The environment's AI_PROVIDER still wins."""

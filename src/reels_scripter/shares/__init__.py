"""Read-only share links of one result (`/s/<token>`)."""

"""One module per domain: uploads, jobs (status, history, events), health and metrics."""

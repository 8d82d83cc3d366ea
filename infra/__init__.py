"""pgvault's Pulumi program: the off-site bucket, keys, access, alerts and dashboard."""

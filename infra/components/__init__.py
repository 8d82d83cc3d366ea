"""ComponentResources, one job each: storage, access, alerting, dashboard, and the optional replication and audit."""

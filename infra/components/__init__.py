"""ComponentResources, one job each: storage, access, alerting, dashboard."""

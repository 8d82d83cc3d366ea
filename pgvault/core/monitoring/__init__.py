"""Monitoring as pure logic: the status document, alert transitions and messages, the dashboard."""

"""Thin Fabric task modules, one per namespace."""

"""The pure core: facts in, plans and documents out.

Nothing here opens a socket, starts a process or touches the disk (templates
are read as package resources, like source code).  ``tests/unit/test_layers.py``
keeps it that way.
"""

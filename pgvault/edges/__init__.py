"""The edges: every place pgvault talks to the network, a process or the disk.

Commands on a host (``execute``, ``remote``, ``service``), the bucket
(``cloud``, ``bucket``), delivery (``notify``), job state on disk
(``jobstate``), the stack file (``stackfile``), secrets (``secretstore``)
and the build id of the installed package (``build``).
"""

"""pgvault's benchmark: pgvault against the naive baseline and the machine's floor, side by side.

``make bench SCALE=small|default`` runs :mod:`bench.__main__` in a private
sandbox.  Pure parts (the plan, statistics, targets, the Markdown report) are
unit-tested; :mod:`bench.lab` and :mod:`bench.sections` drive the real
services and time them.
"""

"""Benchmarks: each figure is a ratio against a bare baseline measured in the same run on the same machine.

Run them all with ``python -m benchmarks`` (``make bench``); ``--only NAME`` runs one, ``--markdown FILE``
writes the table as the "Performance" section.
"""

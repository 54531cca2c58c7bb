"""Stored and exchanged types: the case, the 12315 record, the directory, deadline policies."""

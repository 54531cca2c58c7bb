"""``odr``: the operators' command line (directory and stations import, explain, quarantine, reports)."""

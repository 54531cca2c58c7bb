"""Counters kept from case changes and the bureau's figures read from them."""

"""The case workflow's steps, as the state machine calls them, and their retry on contention."""

"""What people do on a case: actions and their submission, link pages, the enterprise API, reminders."""

"""What people do on a case: action links and pages, the enterprise API, reminders."""

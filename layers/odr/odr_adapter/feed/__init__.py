"""The 12315 side: polling and webhook intake, the case's first write, results reported back."""

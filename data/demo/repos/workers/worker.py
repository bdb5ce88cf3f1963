"""notifications-worker and reports (a fixture: the demo never runs it)."""

"""Summits and events: the calendar of the network and its chapters, with reminders; no Discord here."""

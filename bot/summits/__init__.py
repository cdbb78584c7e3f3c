"""Summits and events: calendars read and published, reminders, and the Discord events kept in sync with them."""

"""Organiser announcements: local times in IANA zones, the schedule, and the posts they become."""

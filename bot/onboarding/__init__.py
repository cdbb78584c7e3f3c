"""Onboarding: a new partner's role, category and channels, planned, previewed, then applied once."""

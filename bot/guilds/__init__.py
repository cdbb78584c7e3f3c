"""Per-guild settings, and the Discord resources the bot created in each guild."""

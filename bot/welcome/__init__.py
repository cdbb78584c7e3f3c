"""Newcomers: the welcome post and its tips, picking a chapter and its role, and what the bot keeps about members."""

"""The outbox: every post the bot makes on its own is enqueued in a transaction, then sent exactly once."""

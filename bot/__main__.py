"""`python -m bot`."""

import sys

from bot.cli import main

if __name__ == "__main__":  # not when a worker process (the calendar parser) imports this module again
    sys.exit(main())

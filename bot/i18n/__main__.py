"""``python -m bot.i18n template | update | check``."""

import sys

from bot.i18n.catalogues import main

sys.exit(main())

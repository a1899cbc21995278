"""Allow ``python -m bot`` as a synonym for the ``heard`` command."""

import sys

from bot.cli import main

sys.exit(main())

"""``python -m emurl.cli``: the same as the ``emurl`` command."""

import sys

from emurl.cli import main

sys.exit(main())

"""``python -m emurl.bench GAME...``: see :func:`emurl.bench.main`."""

import sys

from emurl.bench import main

if __name__ == "__main__":  # worker processes import this module as __mp_main__
    sys.exit(main())

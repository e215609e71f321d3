"""``python -m cspnet_lib.bench``: see ``cli.py``, or run it with ``--help``."""

import sys

from .cli import main

sys.exit(main())

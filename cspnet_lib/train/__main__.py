"""``python -m cspnet_lib.train``: see ``cli.py``."""

import sys

from .cli import main

sys.exit(main())

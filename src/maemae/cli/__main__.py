"""``python -m maemae.cli``: the same as the ``maemae`` command."""

import sys

from maemae.cli import main

sys.exit(main())

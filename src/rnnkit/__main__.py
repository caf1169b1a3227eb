"""``python -m rnnkit``: the ``rnnkit`` command (``rnnkit.cli.main``)."""

import sys

from rnnkit.cli.main import main

sys.exit(main())

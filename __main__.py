"""``python -m musebench``: the ``musebench`` command (:func:`musebench.cli.main`)."""

import sys

from musebench.cli import main

sys.exit(main())

"""``python -m musebench.perf``: run the performance suite (:func:`musebench.perf.suite.main`)."""

import sys

from musebench.perf.suite import main

sys.exit(main())

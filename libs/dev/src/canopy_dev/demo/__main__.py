"""``python -m canopy_dev.demo seed|traffic|guide`` (see :mod:`canopy_dev.demo.cli`)."""

import sys

from canopy_dev.demo.cli import main

sys.exit(main())

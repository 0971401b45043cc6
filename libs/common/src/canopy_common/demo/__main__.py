"""``python -m canopy_common.demo seed|traffic|guide`` (see :mod:`canopy_common.demo.cli`)."""

import sys

from canopy_common.demo.cli import main

sys.exit(main())

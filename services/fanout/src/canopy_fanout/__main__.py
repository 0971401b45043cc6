"""`python -m canopy_fanout [api|worker|all|migrate]`."""

import sys

from canopy_common.service import run_cli
from canopy_fanout.app import DEFINITION
from canopy_fanout.settings import Settings

if __name__ == "__main__":
    sys.exit(run_cli(DEFINITION, Settings))

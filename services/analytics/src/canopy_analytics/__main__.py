"""`python -m canopy_analytics [api|worker|all|migrate]`."""

import sys

from canopy_analytics.app import DEFINITION
from canopy_analytics.settings import Settings
from canopy_common.service import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(DEFINITION, Settings))

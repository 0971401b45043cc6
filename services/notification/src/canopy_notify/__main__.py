"""`python -m canopy_notify [api|worker|all|migrate]`."""

import sys

from canopy_common.service import run_cli
from canopy_notify.app import DEFINITION
from canopy_notify.settings import Settings

if __name__ == "__main__":
    sys.exit(run_cli(DEFINITION, Settings))

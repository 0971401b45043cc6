"""`python -m canopy_ingestion [api|worker|all|migrate]`."""

import sys

from canopy_common.service import run_cli
from canopy_ingestion.app import DEFINITION
from canopy_ingestion.settings import Settings

if __name__ == "__main__":
    sys.exit(run_cli(DEFINITION, Settings))

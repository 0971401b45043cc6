"""Where the W3C Activity Streams 2.0 test documents are, and what a run does without them.

The corpus is outside test data: CI keeps it beside the clone (``../shared/conformance/as2``),
a newcomer's clone has none. Tests that read it carry the ``conformance`` marker. Without the
corpus they are skipped and the run says how to run them; with ``CANOPY_AS2_CORPUS_REQUIRED=1``
(``.ci/run`` sets it) they run anyway and fail, so CI can never pass without them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from canopy_dev.devstack.probes import repo_root

CORPUS_VARIABLE = "CANOPY_AS2_CORPUS"
REQUIRED_VARIABLE = "CANOPY_AS2_CORPUS_REQUIRED"


def corpus_dir(env: Mapping[str, str] = os.environ) -> Path:
    """``$CANOPY_AS2_CORPUS``, else ``shared/conformance/as2`` beside the clone."""
    if given := env.get(CORPUS_VARIABLE):
        return Path(given)
    root = repo_root(Path(__file__).resolve(), Path.cwd()) or Path.cwd()
    return root.parent / "shared/conformance/as2"


def corpus_required(env: Mapping[str, str] = os.environ) -> bool:
    """True when a missing corpus must fail the run instead of skipping its tests."""
    return env.get(REQUIRED_VARIABLE, "") not in ("", "0", "false")


def missing_corpus_message(folder: Path) -> str:
    return (
        f"W3C AS2 conformance tests not run: no corpus at {folder}. Run them with "
        f"{CORPUS_VARIABLE}=/path/to/conformance/as2 make test"
    )

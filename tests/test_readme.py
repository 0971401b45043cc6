"""The README stays true: its settings table is the one the settings classes generate."""

from __future__ import annotations

import re
from pathlib import Path

from canopy_analytics.settings import Settings as AnalyticsSettings
from canopy_dev.settings_table import settings_table
from canopy_fanout.settings import Settings as FanoutSettings
from canopy_ingestion.settings import Settings as IngestionSettings
from canopy_notify.settings import Settings as NotifySettings
from canopy_web.settings import Settings as WebSettings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_settings_table_matches_the_settings_classes() -> None:
    found = re.search(
        r"<!-- settings-table -->\n(.*?)\n<!-- /settings-table -->", README.read_text(), re.S
    )

    assert found is not None, "README.md lost its settings-table markers"
    expected = settings_table(
        (IngestionSettings, FanoutSettings, NotifySettings, AnalyticsSettings), (WebSettings,)
    )
    assert found.group(1) == expected, "regenerate: uv run python scripts/settings_table.py"

"""Print the README's settings table: `uv run python scripts/settings_table.py`."""

from canopy_analytics.settings import Settings as AnalyticsSettings
from canopy_dev.settings_table import settings_table
from canopy_fanout.settings import Settings as FanoutSettings
from canopy_ingestion.settings import Settings as IngestionSettings
from canopy_notify.settings import Settings as NotifySettings
from canopy_web.settings import Settings as WebSettings

SERVICES = (IngestionSettings, FanoutSettings, NotifySettings, AnalyticsSettings)
CLIENTS = (WebSettings,)

if __name__ == "__main__":
    print(settings_table(SERVICES, CLIENTS))

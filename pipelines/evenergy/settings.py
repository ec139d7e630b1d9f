"""Constants of the ev.energy v2 API as this pipeline uses it.

Everything a user may want to change lives in `.dlt/config.toml` (`[sources.evenergy]`);
this module holds what the API itself fixes.
"""

from datetime import timedelta

API_VERSION = "2"
VERSION_HEADER = "EvEnergy-Version"
SCOPES = ("evse:read", "charging_session:read", "debug:read")

DEFAULT_BASE_URL = "https://api.ev.energy/v2"
DEFAULT_TOKEN_URL = "https://api.ev.energy/o/token/"

MAX_PAGE_SIZE = 100
# A token is replaced this long before it expires, so no request goes out with a dying token.
TOKEN_REFRESH_MARGIN = timedelta(seconds=60)

# A missing side of a Link header is written <about:blank> (NOTES.md, "Pagination").
BLANK_LINK = "about:blank"

# Sub-session modes during which ev.energy dispatches commands. UNMANAGED_* modes are
# "no optimisation" by definition, so their dispatcher logs are not asked for.
MANAGED_MODES = ("SMART", "BOOST", "MANAGED_OTG")

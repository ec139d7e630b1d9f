"""The umask of everything the job writes: no file of it is readable by the world.

The warehouse, the published copy, the exports and the lock hold personal data (locations,
user ids) or say where it is. Setting the process umask once, at the start of the command
line, covers every file DuckDB, dlt and pyarrow create, which no per-file chmod could.
"""

from __future__ import annotations

import os

from pipelines.config import WarehouseSettings, load
from pipelines.errors import SettingError


def configured_umask() -> int:
    """`[warehouse] umask` (env `WAREHOUSE__UMASK`), an octal string such as "027".

    Raises:
        SettingError: when it is not an octal number from 000 to 777.
    """
    text = load(WarehouseSettings).umask.strip()
    try:
        mask = int(text, 8)
    except ValueError:
        mask = -1
    if not 0 <= mask <= 0o777:
        raise SettingError(f'warehouse.umask must be an octal mask such as "027", not {text!r}')
    return mask


def apply_umask() -> int:
    """Set the process umask from the settings; returns the mask set."""
    mask = configured_umask()
    os.umask(mask)
    return mask

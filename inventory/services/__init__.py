"""Every write to stock: one transaction per call, every change recorded as ledger movements.

Concurrency: a service that takes vials out locks the StockLevel rows it may touch with
SELECT … FOR UPDATE (PostgreSQL), always in primary-key order so that two transactions never
wait on each other in a cycle, then re-reads them and updates them with F() expressions.
Dispensing and reserving pick first-expiry levels one statement at a time, skipping the levels
others hold and waiting only in that same order (`picking`). The check constraints on StockLevel
are the last line of defence, not the mechanism.

One module per sub-domain: catalogue (products, presentations, wards, storage locations),
ledger (the core every change goes through), receiving,
reservations (reserve, dispense, release), moves (transfer, waste, adjust, return), lots (status:
quarantine, release, recall, destroy, expire), temperature (readings and excursions).
"""

from .catalogue import (  # noqa: F401
    location_save,
    presentation_save,
    product_save,
    ward_save,
)
from .ledger import (  # noqa: F401
    expiry_from_manufacture,
)
from .lots import (  # noqa: F401
    lot_destroy,
    lot_quarantine,
    lot_recall,
    lot_release,
    lots_expire,
)
from .moves import (  # noqa: F401
    stock_adjust,
    stock_return,
    stock_transfer,
    stock_waste,
)
from .receiving import (  # noqa: F401
    lot_receive,
)
from .reservations import (  # noqa: F401
    reservation_release,
    stock_dispense,
    stock_reserve,
)
from .temperature import (  # noqa: F401
    IngestResult,
    excursion_resolve,
    readings_ingest,
)

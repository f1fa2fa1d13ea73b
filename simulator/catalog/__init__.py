"""Provider catalogs: the typed model, loading with located errors, and the lookup registry."""

from simulator.catalog.loader import (
    CATALOG_DIR_ENV,
    CatalogError,
    catalog_files,
    default_catalog_dir,
    load_catalog_file,
    load_catalogs,
)
from simulator.catalog.model import (
    FINAL_STATS,
    MESSAGE_STATE_BY_STAT,
    CallbackFormat,
    Catalog,
    Entry,
    EntryKind,
    Group,
    MessageIdShape,
    OutcomeClass,
    Section,
    SmppRendering,
    SmppStat,
)
from simulator.catalog.registry import (
    ANY_CHANNEL,
    OUTCOME_CLASSES,
    CatalogRegistry,
    load_registry,
)

__all__ = [
    "ANY_CHANNEL",
    "CATALOG_DIR_ENV",
    "FINAL_STATS",
    "MESSAGE_STATE_BY_STAT",
    "OUTCOME_CLASSES",
    "CallbackFormat",
    "Catalog",
    "CatalogError",
    "CatalogRegistry",
    "Entry",
    "EntryKind",
    "Group",
    "MessageIdShape",
    "OutcomeClass",
    "Section",
    "SmppRendering",
    "SmppStat",
    "catalog_files",
    "default_catalog_dir",
    "load_catalog_file",
    "load_catalogs",
    "load_registry",
]

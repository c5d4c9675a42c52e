"""Store adapters, one module per on-disk format, all behind `StoreAdapter`."""

from wadoctor.stores.baileys import BaileysMultiFile
from wadoctor.stores.baileys_legacy import BaileysSingleFile
from wadoctor.stores.base import StoreAdapter
from wadoctor.stores.chromium import ChromiumProfile
from wadoctor.stores.whatsmeow import WhatsmeowSqlite

ADAPTERS: tuple[StoreAdapter, ...] = (BaileysMultiFile(), BaileysSingleFile(), WhatsmeowSqlite(), ChromiumProfile())

__all__ = ["ADAPTERS", "StoreAdapter"]

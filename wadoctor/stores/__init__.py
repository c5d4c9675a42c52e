"""Store adapters, one module per on-disk format, all behind `StoreAdapter`."""

from wadoctor.stores.baileys import BaileysMultiFile
from wadoctor.stores.baileys_legacy import BaileysSingleFile
from wadoctor.stores.base import StoreAdapter
from wadoctor.stores.chromium import ChromiumProfile
from wadoctor.stores.whatsmeow import WhatsmeowSqlite
from wadoctor.stores.wwebjs_remote import RemoteAuthBackup

# RemoteAuth's staging folder holds a copy of a profile's Default folder: it is read before
# the Chromium adapter can take it for a profile.
ADAPTERS: tuple[StoreAdapter, ...] = (BaileysMultiFile(), BaileysSingleFile(), WhatsmeowSqlite(), RemoteAuthBackup(),
                                      ChromiumProfile())

__all__ = ["ADAPTERS", "StoreAdapter"]

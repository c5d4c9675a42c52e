"""Every store adapter: the file adapters in the order discovery asks them, and the database
adapters by the kind of source they read."""

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


def source_adapter(kind: str) -> StoreAdapter:
    """The adapter of a database source's kind. Imported only when a source is read, like
    their drivers: a check of folders does not pay for them."""
    from wadoctor.stores.baileys_redis import BaileysRedis
    from wadoctor.stores.evolution import Evolution

    return next(a for a in (Evolution(), BaileysRedis()) if kind in a.kinds)

"""Every store adapter, in the order discovery asks them; importing this imports them all."""

from wadoctor.stores.baileys import BaileysMultiFile
from wadoctor.stores.baileys_legacy import BaileysSingleFile
from wadoctor.stores.baileys_redis import BaileysRedis
from wadoctor.stores.base import StoreAdapter
from wadoctor.stores.chromium import ChromiumProfile
from wadoctor.stores.evolution import Evolution
from wadoctor.stores.whatsmeow import WhatsmeowSqlite
from wadoctor.stores.wwebjs_remote import RemoteAuthBackup

# RemoteAuth's staging folder holds a copy of a profile's Default folder: it is read before
# the Chromium adapter can take it for a profile.
ADAPTERS: tuple[StoreAdapter, ...] = (BaileysMultiFile(), BaileysSingleFile(), WhatsmeowSqlite(), RemoteAuthBackup(),
                                      ChromiumProfile())

# Adapters of database sources, chosen by the source's kind; their drivers load only when read.
SOURCE_ADAPTERS: tuple[StoreAdapter, ...] = (Evolution(), BaileysRedis())

"""One table per gateway: where it keeps sessions and how it names them, read from its source.

Each `Place` pattern is relative to the gateway's application folder (its working folder in
the container); `{name}` is the session's name as the gateway knows it, `*` any one folder.
Sources, for whoever updates a table:

- WAHA (devlikeapro/waha): `LocalStoreCore` keeps `./.sessions/<engine>/<session>/`
  (`WAHA_LOCAL_STORE_BASE_DIR` moves `.sessions`); NOWEB runs Baileys' `useMultiFileAuthState`
  on that folder, GOWS opens whatsmeow's sqlstore at `<session>/gows.db`, WEBJS keeps a
  Chromium profile; `waha.sqlite3` beside the engines is WAHA's own database.
- Evolution API: `instances/<instance id>/` holds the Baileys key files; creds live in its
  database (`INSTANCE_FOLDER`, `src/utils/use-multi-file-auth-state-prisma.ts`).
- wppconnect / wppconnect-server: puppeteer's `userDataDir` is `<folderNameToken>/<session>`
  (`./tokens` by default, `userDataDir/<session>` in wppconnect-server's config), and
  `FileTokenStore` writes `tokens/<session>.data.json` beside it.
- venom-bot: `<folderNameToken>/<session>` (`./tokens`), a Chromium profile.
- whatsapp-web.js: LocalAuth `<dataPath>/session[-<clientId>]`, RemoteAuth
  `<dataPath>/RemoteAuth[-<clientId>]`, its staging folder `wwebjs_temp_session_<clientId>`
  and archive `RemoteAuth-<clientId>.zip`; `dataPath` is `./.wwebjs_auth` by default.
- go-whatsapp-web-multidevice: `storages/whatsapp.db` (whatsmeow), `storages/chatstorage.db`.
- wuzapi: `dbdata/users.db`, whatsmeow's tables and its own `users` table (name, jid) in one file.
- baileys-api (ookamiiixd): `sessions/md_<session id>/` multi-file stores.
- wa-multi-session (mimamch): `wa_credentials/<session id>_credentials/` multi-file stores.
"""

from __future__ import annotations

from wadoctor.gateways.layout import Gateway, NamesQuery, Place

WAHA = Gateway(
    name="waha",
    packages=("waha", "whatsapp-http-api"),
    images=("devlikeapro/waha", "devlikeapro/waha-plus", "devlikeapro/whatsapp-http-api"),
    places=(
        Place(".sessions/noweb/{name}", "baileys", engine="NOWEB"),
        Place(".sessions/gows/{name}/gows.db", "whatsmeow", engine="GOWS"),
        Place(".sessions/webjs/{name}", "chromium", engine="WEBJS"),
        Place(".sessions/webjs/{name}/*", "chromium", engine="WEBJS"),
    ),
    not_sessions=(".sessions/*/waha.sqlite3", ".sessions/waha/*"),
    hidden_dirs=(".sessions",),
)

EVOLUTION = Gateway(
    name="evolution-api",
    packages=("evolution-api",),
    images=("atendai/evolution-api", "evoapicloud/evolution-api", "davidsongomes/evolution-api"),
    places=(Place("instances/{name}", "baileys", engine="BAILEYS", creds_in="its database (Session table)"),),
)

WPPCONNECT = Gateway(
    name="wppconnect",
    packages=("@wppconnect/server", "@wppconnect-team/wppconnect", "wppconnect-server"),
    images=("wppconnect/server-cli", "wppconnect/wppconnect-server"),
    places=(
        Place("tokens/{name}", "chromium", companion="tokens/{name}.data.json"),
        Place("userDataDir/{name}", "chromium", companion="tokens/{name}.data.json"),
    ),
)

VENOM = Gateway(
    name="venom",
    packages=("venom-bot",),
    places=(Place("tokens/{name}", "chromium"),),
)

WHATSAPP_WEB_JS = Gateway(
    name="whatsapp-web.js",
    packages=("whatsapp-web.js",),
    places=(
        Place(".wwebjs_auth/*", "chromium", logged_as=r"session-(?P<name>.+)"),
        Place(".wwebjs_auth/*", "wwebjs-remote-backup"),
    ),
    hidden_dirs=(".wwebjs_auth",),
)

GO_WHATSAPP = Gateway(
    name="go-whatsapp-web-multidevice",
    packages=("github.com/aldinokemal/go-whatsapp-web-multidevice",),
    images=("aldinokemal2104/go-whatsapp-web-multidevice",),
    places=(Place("storages/whatsapp.db", "whatsmeow"),),
    not_sessions=("storages/chatstorage.db",),
)

WUZAPI = Gateway(
    name="wuzapi",
    packages=("wuzapi", "github.com/asternic/wuzapi"),
    images=("asternic/wuzapi", "setupautomatizado/wuzapi"),
    places=(Place("dbdata/users.db", "whatsmeow", names=NamesQuery("users", "jid", "name")),),
)

BAILEYS_API = Gateway(
    name="baileys-api",
    packages=("baileys-api", "@ookamiiixd/baileys-api"),
    places=(Place("sessions/md_{name}", "baileys"),),
)

WA_MULTI_SESSION = Gateway(
    name="wa-multi-session",
    packages=("wa-multi-session",),
    places=(Place("wa_credentials/{name}_credentials", "baileys"),),
)

# Gateways before the libraries they embed: an app folder is named by the most specific match.
GATEWAYS: tuple[Gateway, ...] = (WAHA, EVOLUTION, WPPCONNECT, GO_WHATSAPP, WUZAPI, BAILEYS_API,
                                 WA_MULTI_SESSION, VENOM, WHATSAPP_WEB_JS)

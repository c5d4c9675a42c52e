/* The per-file and per-creds work of a check, for a large fleet or a large database.
 *
 * A plain check costs one lstat per file, and in Python each os.stat builds a stat_result
 * of 19 fields (three of them nanosecond integers made by big-integer arithmetic) and each
 * os.scandir entry is an object of its own: more CPU than the system calls themselves.
 * list_folder reads a folder and lstats each entry in the same pass, keeping only the three
 * fields the check judges; judge_keys types each file by its name as one regex pass would,
 * without a match object per name. healthy_creds recognises creds with nothing wrong in one
 * pass, where Python decodes a dozen base64 fields one call at a time. copy_tuple reads one
 * row of a database's binary COPY where a worker judges it, so the process reading the COPY
 * only passes bytes on. All are optional: wadoctor.stores.files, .baileys, .baileys_creds
 * and .pgcopy fall back to Python where this was not built, and the tests hold both to the
 * same answers.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Append each of `count` new references to its list; every reference is released. */
static int
append_all(PyObject **lists, PyObject **items, int count)
{
    int failed = 0;
    for (int i = 0; i < count; i++) {
        failed = failed || items[i] == NULL || PyList_Append(lists[i], items[i]) < 0;
        Py_XDECREF(items[i]);
    }
    return failed ? -1 : 0;
}

PyDoc_STRVAR(list_folder_doc,
"list_folder(path) -> (names, modes, sizes, mtimes, failed)\n\n"
"Every entry of a folder, in the order the folder lists them, lstat'ed (links not followed)\n"
"relative to the open folder in the same pass: the four lists hold the names that could be,\n"
"failed holds (name, errno) for each that could not (gone since the listing, say). Names are\n"
"decoded as os.listdir decodes them; an mtime equals os.stat's st_mtime. Raises OSError when\n"
"the folder cannot be opened or read.");

static PyObject *
list_folder(PyObject *module, PyObject *args)
{
    PyObject *given, *shown, *path = NULL;
    if (!PyArg_ParseTuple(args, "O:list_folder", &given) || (shown = PyOS_FSPath(given)) == NULL)
        return NULL;
    if (!PyUnicode_FSConverter(shown, &path)) {
        Py_DECREF(shown);
        return NULL;
    }
    PyObject *lists[5] = {PyList_New(0), PyList_New(0), PyList_New(0), PyList_New(0), PyList_New(0)};
    DIR *listing = NULL;
    for (int i = 0; i < 5; i++)
        if (lists[i] == NULL)
            goto error;
    int folder = open(PyBytes_AS_STRING(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (folder < 0 || (listing = fdopendir(folder)) == NULL) {
        int err = errno;
        if (folder >= 0)
            close(folder);
        errno = err;
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, shown);  /* named as os.open names it */
        goto error;
    }
    for (;;) {
        errno = 0;
        struct dirent *entry = readdir(listing);
        if (entry == NULL) {
            if (errno != 0) {
                PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, shown);
                goto error;
            }
            break;
        }
        const char *raw = entry->d_name;
        if (raw[0] == '.' && (raw[1] == '\0' || (raw[1] == '.' && raw[2] == '\0')))
            continue;
        struct stat st;
        int rc = fstatat(folder, raw, &st, AT_SYMLINK_NOFOLLOW);
        int err = errno;
        PyObject *name = PyUnicode_DecodeFSDefault(raw);
        if (name == NULL)
            goto error;
        if (rc == 0) {
            PyObject *items[4] = {
                name,
                PyLong_FromUnsignedLong(st.st_mode),
                PyLong_FromLongLong(st.st_size),
                /* the expression CPython's os.stat uses, so the float is the same */
                PyFloat_FromDouble(st.st_mtim.tv_sec + st.st_mtim.tv_nsec * 1e-9),
            };
            if (append_all(lists, items, 4) < 0)
                goto error;
        }
        else {
            PyObject *failure[1] = {Py_BuildValue("(Ni)", name, err)};
            if (append_all(&lists[4], failure, 1) < 0)
                goto error;
        }
    }
    closedir(listing);
    Py_DECREF(shown);
    Py_DECREF(path);
    return Py_BuildValue("(NNNNN)", lists[0], lists[1], lists[2], lists[3], lists[4]);
error:
    if (listing != NULL)
        closedir(listing);
    Py_DECREF(shown);
    Py_DECREF(path);
    for (int i = 0; i < 5; i++)
        Py_XDECREF(lists[i]);
    return NULL;
}

/* The index in `kinds` of a name's key type, or -1: the first kind such that the name is
 * kind + '-' + at least one character other than a line end + suffix, as
 * re.match(r'(k1|k2|...)-(.+)' + suffix + r'\Z') types it. */
static Py_ssize_t
kind_of(PyObject *name, PyObject *kinds, PyObject *suffix)
{
    Py_ssize_t length = PyUnicode_GET_LENGTH(name), tail = PyUnicode_GET_LENGTH(suffix);
    if (length <= tail || PyUnicode_Tailmatch(name, suffix, 0, length, 1) != 1)
        return -1;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(kinds); k++) {
        PyObject *candidate = PyTuple_GET_ITEM(kinds, k);
        Py_ssize_t head = PyUnicode_GET_LENGTH(candidate);
        if (head + 2 + tail <= length && PyUnicode_Tailmatch(name, candidate, 0, length, -1) == 1
            && PyUnicode_READ_CHAR(name, head) == '-'
            && PyUnicode_FindChar(name, '\n', head + 1, length - tail, 1) == -1)
            return k;
    }
    return -1;
}

/* A key file of the crash window: ordered by mtime, then by position in the listing. */
typedef struct {
    double mtime;
    Py_ssize_t index;
    Py_ssize_t kind;
} Recent;

static int
recent_before(const Recent *a, const Recent *b)
{
    return a->mtime < b->mtime || (a->mtime == b->mtime && a->index < b->index);
}

/* (index, kinds[kind]) appended to a list; -1 on failure. */
static int
append_pair(PyObject *list, Py_ssize_t index, PyObject *kinds, Py_ssize_t kind)
{
    PyObject *pair = Py_BuildValue("(nO)", index, PyTuple_GET_ITEM(kinds, kind));
    PyObject *items[1] = {pair};
    return append_all(&list, items, 1);
}

PyDoc_STRVAR(judge_keys_doc,
"judge_keys(names, modes, sizes, mtimes, kinds, suffix, floors, creds, window, cap, deep)\n"
"    -> (files, bytes, newest, key_types, creds_index, others, judged, recent)\n\n"
"One pass over a folder's lstat'ed entries (folders skipped), as wadoctor.stores.baileys\n"
"._judge_keys does it in Python: the count, bytes and newest mtime of the files; the count\n"
"of each key type (kinds[k] typed as kind_of types it) in the order types first appear;\n"
"the index of `creds` or -1; the indices of the files that are neither keys nor creds;\n"
"(index, kind) of the key files to read: with `deep` all, else those under their type's\n"
"floor (floors[k]) and those that are not regular files; and (index, kind) of the `cap`\n"
"newest other key files written within `window` seconds of the newest file, oldest first.");

static PyObject *
judge_keys(PyObject *module, PyObject *args)
{
    PyObject *names, *modes, *sizes, *mtimes, *kinds, *suffix, *floors, *creds;
    double window;
    Py_ssize_t cap;
    int deep;
    if (!PyArg_ParseTuple(args, "O!O!O!O!O!UO!Udnp:judge_keys", &PyList_Type, &names, &PyList_Type, &modes,
                          &PyList_Type, &sizes, &PyList_Type, &mtimes, &PyTuple_Type, &kinds, &suffix,
                          &PyTuple_Type, &floors, &creds, &window, &cap, &deep))
        return NULL;
    Py_ssize_t count = PyList_GET_SIZE(names), nkinds = PyTuple_GET_SIZE(kinds);
    if (PyList_GET_SIZE(modes) != count || PyList_GET_SIZE(sizes) != count || PyList_GET_SIZE(mtimes) != count
        || PyTuple_GET_SIZE(floors) != nkinds || cap < 0) {
        PyErr_SetString(PyExc_ValueError, "judge_keys: the lists differ in length, or floors from kinds");
        return NULL;
    }
    for (Py_ssize_t k = 0; k < nkinds; k++)
        if (!PyUnicode_Check(PyTuple_GET_ITEM(kinds, k))) {
            PyErr_SetString(PyExc_TypeError, "judge_keys: kinds must be str");
            return NULL;
        }
    PyObject *others = PyList_New(0), *judged = PyList_New(0), *recent = PyList_New(0), *types = PyDict_New();
    PyObject *result = NULL;
    Py_ssize_t *kind = PyMem_New(Py_ssize_t, count + 1), *seen = PyMem_New(Py_ssize_t, nkinds + 1);
    Py_ssize_t *order = PyMem_New(Py_ssize_t, nkinds + 1);
    long long *floor = PyMem_New(long long, nkinds + 1);
    double *mtime = PyMem_New(double, count + 1);
    Recent *top = PyMem_New(Recent, cap + 1);
    Py_ssize_t files = 0, typed = 0, creds_index = -1, held = 0;
    long long total = 0;
    double newest = 0.0;
    if (others == NULL || judged == NULL || recent == NULL || types == NULL || kind == NULL || seen == NULL
        || order == NULL || floor == NULL || mtime == NULL || top == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    for (Py_ssize_t k = 0; k < nkinds; k++) {
        seen[k] = 0;
        floor[k] = PyLong_AsLongLong(PyTuple_GET_ITEM(floors, k));
        if (floor[k] == -1 && PyErr_Occurred())
            goto error;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *name = PyList_GET_ITEM(names, i);
        unsigned long mode = PyLong_AsUnsignedLong(PyList_GET_ITEM(modes, i));
        long long size = PyLong_AsLongLong(PyList_GET_ITEM(sizes, i));
        mtime[i] = PyFloat_AsDouble(PyList_GET_ITEM(mtimes, i));
        if (PyErr_Occurred())
            goto error;
        if (!PyUnicode_Check(name)) {
            PyErr_SetString(PyExc_TypeError, "judge_keys: names must be str");
            goto error;
        }
        kind[i] = -1;
        if (S_ISDIR(mode))
            continue;
        files++;
        total += size;
        if (files == 1 || mtime[i] > newest)
            newest = mtime[i];
        kind[i] = kind_of(name, kinds, suffix);
        if (kind[i] < 0) {
            if (creds_index < 0 && PyUnicode_Compare(name, creds) == 0)
                creds_index = i;
            else if (PyErr_Occurred() || append_all(&others, (PyObject *[]){PyLong_FromSsize_t(i)}, 1) < 0)
                goto error;
            continue;
        }
        if (seen[kind[i]]++ == 0)
            order[typed++] = kind[i];
        if (deep || size < floor[kind[i]] || !S_ISREG(mode)) {
            if (append_pair(judged, i, kinds, kind[i]) < 0)
                goto error;
            kind[i] = -1;  /* read already: not in the window */
        }
    }
    /* the window: the `cap` newest key files not read already, kept in order in `top` */
    for (Py_ssize_t i = 0; i < count && cap > 0; i++) {
        if (kind[i] < 0 || !(mtime[i] >= newest - window))
            continue;
        Recent candidate = {mtime[i], i, kind[i]};
        if (held == cap) {
            if (!recent_before(&top[0], &candidate))
                continue;
            memmove(&top[0], &top[1], (cap - 1) * sizeof(Recent));  /* drop the oldest */
            held--;
        }
        Py_ssize_t at = held;
        while (at > 0 && recent_before(&candidate, &top[at - 1])) {
            top[at] = top[at - 1];
            at--;
        }
        top[at] = candidate;
        held++;
    }
    for (Py_ssize_t t = 0; t < held; t++)
        if (append_pair(recent, top[t].index, kinds, top[t].kind) < 0)
            goto error;
    for (Py_ssize_t t = 0; t < typed; t++) {
        PyObject *number = PyLong_FromSsize_t(seen[order[t]]);
        if (number == NULL || PyDict_SetItem(types, PyTuple_GET_ITEM(kinds, order[t]), number) < 0) {
            Py_XDECREF(number);
            goto error;
        }
        Py_DECREF(number);
    }
    result = Py_BuildValue("(nLdOnOOO)", files, total, newest, types, creds_index, others, judged, recent);
error:  /* and the way out on success: result holds its own references */
    PyMem_Free(kind);
    PyMem_Free(seen);
    PyMem_Free(order);
    PyMem_Free(floor);
    PyMem_Free(mtime);
    PyMem_Free(top);
    Py_XDECREF(others);
    Py_XDECREF(judged);
    Py_XDECREF(recent);
    Py_XDECREF(types);
    return result;
}

/* ---- healthy_creds ---------------------------------------------------------------------- */

enum { NOISE_KEY, PRIVATE, PUBLIC, TYPE, DATA, SIGNED_IDENTITY_KEY, PAIRING_EPHEMERAL_KEY_PAIR, SIGNED_PRE_KEY,
       KEY_PAIR, SIGNATURE, REGISTRATION_ID, NEXT_PRE_KEY_ID, FIRST_UNUPLOADED_PRE_KEY_ID, ADV_SECRET_KEY, ME, ID,
       LID, NAME, PLATFORM, ACCOUNT, DETAILS, ACCOUNT_SIGNATURE_KEY, ACCOUNT_SIGNATURE, DEVICE_SIGNATURE, NKEYS };
static const char *const key_names[NKEYS] = {
    "noiseKey", "private", "public", "type", "data", "signedIdentityKey", "pairingEphemeralKeyPair",
    "signedPreKey", "keyPair", "signature", "registrationId", "nextPreKeyId", "firstUnuploadedPreKeyId",
    "advSecretKey", "me", "id", "lid", "name", "platform", "account", "details", "accountSignatureKey",
    "accountSignature", "deviceSignature",
};
static PyObject *keys[NKEYS];  /* interned at import */

/* Outcomes of a step below: the value is healthy, it is not (or not surely: Python decides,
 * and says what is wrong), or Python raised (memory). */
enum { HEALTHY = 0, UNSURE = 1, FAILED = -1 };

/* dict.get(key) of a dict, borrowed: NULL (no error set) when missing or not a dict */
static PyObject *
get(PyObject *dict, int key)
{
    return PyDict_Check(dict) ? PyDict_GetItemWithError(dict, keys[key]) : NULL;
}

static signed char alphabet[256];  /* base64 value of each byte, -1 for others */

/* The base64 text of a BufferJSON value, as wadoctor.stores.buffers.decode_bytes reads it
 * ({"type": "Buffer", "data": "<base64>"}, or a plain base64 string): ASCII only, else NULL
 * (the list-of-ints form and anything else are left to Python). */
static const unsigned char *
base64_text(PyObject *value, Py_ssize_t *length)
{
    if (PyDict_Check(value)) {
        PyObject *type = get(value, TYPE);
        if (type == NULL || !PyUnicode_Check(type) || PyUnicode_CompareWithASCIIString(type, "Buffer") != 0)
            return NULL;
        value = get(value, DATA);
    }
    if (value == NULL || !PyUnicode_Check(value) || !PyUnicode_IS_ASCII(value))
        return NULL;
    *length = PyUnicode_GET_LENGTH(value);
    return PyUnicode_1BYTE_DATA(value);
}

/* The decoded length of base64 that binascii.a2b_base64(strict_mode=True) surely accepts:
 * whole quads of the alphabet, '=' padding only at the very end; -1 for anything else. */
static Py_ssize_t
base64_length(const unsigned char *text, Py_ssize_t length)
{
    if (length % 4 != 0)
        return -1;
    Py_ssize_t pads = length >= 4 ? (text[length - 1] == '=') + (text[length - 1] == '=' && text[length - 2] == '=') : 0;
    for (Py_ssize_t i = 0; i < length - pads; i++)
        if (alphabet[text[i]] < 0)
            return -1;
    return length / 4 * 3 - pads;
}

/* Decode what base64_length accepted into `out` (room for its length). */
static void
base64_decode(const unsigned char *text, Py_ssize_t length, unsigned char *out)
{
    uint32_t bits = 0;
    int held = 0;
    for (Py_ssize_t i = 0; i < length && text[i] != '='; i++) {
        bits = (bits << 6) | (uint32_t)alphabet[text[i]];
        held += 6;
        if (held >= 8) {
            held -= 8;
            *out++ = (unsigned char)(bits >> held);
        }
    }
}

/* A BufferJSON value of exactly `size` bytes, decoded into `out` when given. */
static int
sized(PyObject *value, Py_ssize_t size, unsigned char *out)
{
    Py_ssize_t length;
    const unsigned char *text = value == NULL ? NULL : base64_text(value, &length);
    if (text == NULL || base64_length(text, length) != size)
        return UNSURE;
    if (out != NULL)
        base64_decode(text, length, out);
    return HEALTHY;
}

/* A Curve25519 key pair: both halves 32 bytes, the public one decoded into `public` if given. */
static int
key_pair(PyObject *value, unsigned char *public)
{
    if (value == NULL || !PyDict_Check(value))
        return UNSURE;
    return sized(get(value, PRIVATE), 32, NULL) || sized(get(value, PUBLIC), 32, public) ? UNSURE : HEALTHY;
}

/* A varint of at most 9 bytes (longer ones are left to Python, which reads up to 10). */
static int
varint(const unsigned char *buffer, Py_ssize_t end, Py_ssize_t *at, uint64_t *value)
{
    *value = 0;
    for (int shift = 0; shift <= 56; shift += 7) {
        if (*at >= end)
            return UNSURE;
        unsigned char byte = buffer[(*at)++];
        *value |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80))
            return HEALTHY;
    }
    return UNSURE;
}

/* The timestamp (field 2) of an ADVDeviceIdentity, as wadoctor.stores.adv reads it: the
 * last varint of that number; `found` 0 when there is none. */
static int
pairing_time(const unsigned char *buffer, Py_ssize_t end, uint64_t *timestamp, int *found)
{
    Py_ssize_t at = 0;
    *found = 0;
    while (at < end) {
        uint64_t key, value;
        if (varint(buffer, end, &at, &key))
            return UNSURE;
        switch (key & 7) {
        case 0:
            if (varint(buffer, end, &at, &value))
                return UNSURE;
            if (key >> 3 == 2) {
                *timestamp = value;
                *found = 1;
            }
            break;
        case 2:
            if (varint(buffer, end, &at, &value) || value > (uint64_t)(end - at))
                return UNSURE;
            at += (Py_ssize_t)value;
            break;
        case 1:
            at += 8;
            break;
        case 5:
            at += 4;
            break;
        default:
            return UNSURE;
        }
        if (at > end)
            return UNSURE;
    }
    return HEALTHY;
}

/* creds.account: the pairing time its device identity carries (None if none), and its keys. */
static int
account(PyObject *value, PyObject **paired_at)
{
    Py_ssize_t length, size;
    const unsigned char *text = PyDict_Check(value) && get(value, DETAILS) ? base64_text(get(value, DETAILS), &length)
                                                                           : NULL;
    if (text == NULL || (size = base64_length(text, length)) < 0
        || sized(get(value, ACCOUNT_SIGNATURE_KEY), 32, NULL) || sized(get(value, ACCOUNT_SIGNATURE), 64, NULL)
        || sized(get(value, DEVICE_SIGNATURE), 64, NULL))
        return UNSURE;
    unsigned char *details = PyMem_Malloc(size + 1);
    if (details == NULL) {
        PyErr_NoMemory();
        return FAILED;
    }
    base64_decode(text, length, details);
    uint64_t timestamp = 0;
    int found, outcome = pairing_time(details, size, &timestamp, &found);
    PyMem_Free(details);
    if (outcome == HEALTHY)
        *paired_at = found ? PyLong_FromUnsignedLongLong(timestamp) : Py_NewRef(Py_None);
    return outcome != HEALTHY ? outcome : *paired_at == NULL ? FAILED : HEALTHY;
}

/* creds.me: (jid, phone, device, lid, name) as wadoctor.stores.jid.parse_jid and read_creds
 * take them, for an ASCII JID with a device of at most 9 digits (Python decides the rest). */
static int
me(PyObject *value, PyObject **found)
{
    PyObject *jid = get(value, ID);
    if (jid == NULL || !PyUnicode_Check(jid) || !PyUnicode_IS_ASCII(jid))
        return UNSURE;
    const char *text = (const char *)PyUnicode_1BYTE_DATA(jid);
    Py_ssize_t length = PyUnicode_GET_LENGTH(jid), at = -1, colon = -1, user = -1;
    for (Py_ssize_t i = 0; i < length; i++) {
        if (text[i] == '@') {
            if (at >= 0)
                return UNSURE;
            at = i;
        }
        else if (at < 0 && text[i] == ':' && colon < 0)
            colon = i;
    }
    if (at < 0)
        return UNSURE;
    Py_ssize_t head = colon >= 0 ? colon : at;
    for (user = 0; user < head && text[user] != '_'; user++)
        ;
    if (user == 0 || at == length - 1)
        return UNSURE;
    long number = -1;  /* no device */
    if (colon >= 0 && colon + 1 < at) {
        if (at - colon - 1 > 9)
            return UNSURE;
        number = 0;
        for (Py_ssize_t i = colon + 1; i < at; i++) {
            if (text[i] < '0' || text[i] > '9')
                return UNSURE;
            number = number * 10 + (text[i] - '0');
        }
    }
    PyObject *device = number < 0 ? Py_NewRef(Py_None) : PyLong_FromLong(number);
    PyObject *lid = get(value, LID), *name = get(value, NAME);
    lid = lid != NULL && PyUnicode_Check(lid) ? lid : Py_None;
    name = name != NULL && PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "~") != 0 ? name
                                                                                                      : Py_None;
    *found = Py_BuildValue("(ONNOO)", jid, PyUnicode_Substring(jid, 0, user), device, lid, name);
    return PyErr_Occurred() ? FAILED : HEALTHY;
}

PyDoc_STRVAR(healthy_creds_doc,
"healthy_creds(creds) -> (noise_public, jid, phone, device, lid, name, platform, paired_at) | None\n\n"
"The identity wadoctor.stores.baileys_creds.read_creds reads from creds (a parsed creds.json)\n"
"in which it finds nothing wrong, in one pass: every key and signature of the size Baileys\n"
"writes, the counters integers, me.id a JID, the account's device identity readable. None\n"
"when anything is not so, or not surely so (a form of bytes older versions wrote, say):\n"
"read_creds then judges them, and says what is wrong.");

static PyObject *
healthy_creds(PyObject *module, PyObject *creds)
{
    unsigned char noise[32];
    PyObject *spk, *counter, *platform, *found = NULL, *paired_at = NULL, *result = NULL;
    if (!PyDict_Check(creds) || key_pair(get(creds, NOISE_KEY), noise) || key_pair(get(creds, SIGNED_IDENTITY_KEY), NULL)
        || ((spk = get(creds, PAIRING_EPHEMERAL_KEY_PAIR)) != NULL && key_pair(spk, NULL))
        || (spk = get(creds, SIGNED_PRE_KEY)) == NULL || !PyDict_Check(spk) || key_pair(get(spk, KEY_PAIR), NULL)
        || sized(get(spk, SIGNATURE), 64, NULL) || sized(get(creds, ADV_SECRET_KEY), 32, NULL))
        goto done;
    for (int key = REGISTRATION_ID; key <= FIRST_UNUPLOADED_PRE_KEY_ID; key++)
        if ((counter = get(creds, key)) == NULL || !PyLong_Check(counter) || PyBool_Check(counter))
            goto done;
    PyObject *who = get(creds, ME), *held = get(creds, ACCOUNT);
    if (who != NULL && who != Py_None && (!PyDict_Check(who) || me(who, &found) != HEALTHY))
        goto done;
    if (held != NULL && held != Py_None && account(held, &paired_at) != HEALTHY)
        goto done;
    platform = get(creds, PLATFORM);
    platform = platform != NULL && PyUnicode_Check(platform) ? platform : Py_None;
    if (found == NULL)
        found = Py_BuildValue("(OOOOO)", Py_None, Py_None, Py_None, Py_None, Py_None);
    if (found != NULL)
        result = Py_BuildValue("(y#OOOOOOO)", noise, (Py_ssize_t)32, PyTuple_GET_ITEM(found, 0),
                               PyTuple_GET_ITEM(found, 1), PyTuple_GET_ITEM(found, 2), PyTuple_GET_ITEM(found, 3),
                               PyTuple_GET_ITEM(found, 4), platform, paired_at ? paired_at : Py_None);
done:
    Py_XDECREF(found);
    Py_XDECREF(paired_at);
    if (result == NULL && !PyErr_Occurred())
        Py_RETURN_NONE;
    return result;
}

PyDoc_STRVAR(copy_tuple_doc,
"copy_tuple(data, kinds) -> tuple\n\n"
"One tuple of a PostgreSQL binary COPY (an int16 count of fields, then each field as an int32\n"
"length, -1 for NULL, and its bytes), each field read as its letter in `kinds` says: t text\n"
"(UTF-8; a byte that is not, as U+FFFD), f float8, b bool. Raises ValueError unless the data\n"
"is exactly one tuple of those fields. wadoctor.stores.pgcopy reads the same in Python.");

static uint32_t
big_endian32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static PyObject *
copy_field(const unsigned char *p, int32_t length, char kind)
{
    if (length == -1)
        Py_RETURN_NONE;
    switch (kind) {
    case 't':
        return PyUnicode_DecodeUTF8((const char *)p, length, "replace");
    case 'f':
        if (length == 8) {
            uint64_t bits = (uint64_t)big_endian32(p) << 32 | big_endian32(p + 4);
            double value;
            memcpy(&value, &bits, sizeof value);
            return PyFloat_FromDouble(value);
        }
        break;
    case 'b':
        if (length == 1)
            return PyBool_FromLong(p[0] != 0);
        break;
    }
    PyErr_Format(PyExc_ValueError, "a COPY field of %d bytes is not a %c column", (int)length, kind);
    return NULL;
}

static PyObject *
copy_tuple(PyObject *module, PyObject *args)
{
    Py_buffer data;
    const char *kinds;
    Py_ssize_t count;
    if (!PyArg_ParseTuple(args, "y*s#", &data, &kinds, &count))
        return NULL;
    const unsigned char *p = data.buf, *end = p + data.len;
    PyObject *row = NULL;
    if (data.len < 2 || ((Py_ssize_t)(p[0] << 8 | p[1])) != count) {
        PyErr_Format(PyExc_ValueError, "a COPY tuple not of %zd fields", count);
        goto done;
    }
    p += 2;
    if ((row = PyTuple_New(count)) == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < count; i++) {
        int32_t length = -2;  /* cut short, unless 4 bytes of length are there */
        if (end - p >= 4) {
            length = (int32_t)big_endian32(p);
            p += 4;
        }
        if (length < -1 || (length > 0 && length > end - p)) {
            PyErr_SetString(PyExc_ValueError, "a COPY tuple cut short");
            Py_CLEAR(row);
            goto done;
        }
        PyObject *value = copy_field(p, length, kinds[i]);
        if (value == NULL) {
            Py_CLEAR(row);
            goto done;
        }
        PyTuple_SET_ITEM(row, i, value);
        p += length > 0 ? length : 0;
    }
    if (p != end) {
        PyErr_SetString(PyExc_ValueError, "a COPY tuple with bytes after its fields");
        Py_CLEAR(row);
    }
done:
    PyBuffer_Release(&data);
    return row;
}

static PyMethodDef methods[] = {
    {"list_folder", list_folder, METH_VARARGS, list_folder_doc},
    {"judge_keys", judge_keys, METH_VARARGS, judge_keys_doc},
    {"healthy_creds", healthy_creds, METH_O, healthy_creds_doc},
    {"copy_tuple", copy_tuple, METH_VARARGS, copy_tuple_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups", "A check's per-file and per-creds work in C (see the functions).", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    memset(alphabet, -1, sizeof alphabet);
    for (int i = 0; i < 64; i++)
        alphabet[(unsigned char)digits[i]] = (signed char)i;
    for (int key = 0; key < NKEYS; key++)
        if ((keys[key] = PyUnicode_InternFromString(key_names[key])) == NULL)
            return NULL;
    return PyModule_Create(&module);
}

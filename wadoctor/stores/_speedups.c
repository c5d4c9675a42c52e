/* The per-file work of a plain check, for the folders of a large fleet.
 *
 * A plain check costs one lstat per file, and in Python each os.stat builds a stat_result
 * of 19 fields (three of them nanosecond integers made by big-integer arithmetic) and each
 * os.scandir entry is an object of its own: more CPU than the system calls themselves.
 * list_folder reads a folder and lstats each entry in the same pass, keeping only the three
 * fields the check judges; prefix_kinds types each file by its name as one regex pass would,
 * without a match object per name. Both are optional: wadoctor.stores.files and
 * wadoctor.stores.baileys fall back to Python where this was not built, and the tests hold
 * both to the same answers.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

static PyMethodDef methods[] = {
    {"list_folder", list_folder, METH_VARARGS, list_folder_doc},
    {"judge_keys", judge_keys, METH_VARARGS, judge_keys_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups", "A plain check's per-file work in C (see the functions).", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModule_Create(&module);
}

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

PyDoc_STRVAR(prefix_kinds_doc,
"prefix_kinds(names, kinds, suffix) -> list of str\n\n"
"For each name, the first of kinds such that the name is kind + '-' + at least one character\n"
"other than a line end + suffix, else ''; as re.match(r'(k1|k2|...)-(.+)' + suffix + r'\\Z').");

static PyObject *
prefix_kinds(PyObject *module, PyObject *args)
{
    PyObject *names, *kinds, *suffix;
    if (!PyArg_ParseTuple(args, "O!O!U:prefix_kinds", &PyList_Type, &names, &PyTuple_Type, &kinds, &suffix))
        return NULL;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(kinds); k++)
        if (!PyUnicode_Check(PyTuple_GET_ITEM(kinds, k))) {
            PyErr_SetString(PyExc_TypeError, "prefix_kinds: kinds must be str");
            return NULL;
        }
    PyObject *none = PyUnicode_New(0, 0), *found = PyList_New(PyList_GET_SIZE(names));
    if (none == NULL || found == NULL)
        goto error;
    Py_ssize_t tail = PyUnicode_GET_LENGTH(suffix);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(names); i++) {
        PyObject *name = PyList_GET_ITEM(names, i), *kind = none;
        if (!PyUnicode_Check(name)) {
            PyErr_SetString(PyExc_TypeError, "prefix_kinds: names must be str");
            goto error;
        }
        Py_ssize_t length = PyUnicode_GET_LENGTH(name);
        if (length > tail && PyUnicode_Tailmatch(name, suffix, 0, length, 1) == 1) {
            for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(kinds); k++) {
                PyObject *candidate = PyTuple_GET_ITEM(kinds, k);
                Py_ssize_t head = PyUnicode_GET_LENGTH(candidate);
                if (head + 2 + tail <= length && PyUnicode_Tailmatch(name, candidate, 0, length, -1) == 1
                    && PyUnicode_READ_CHAR(name, head) == '-'
                    && PyUnicode_FindChar(name, '\n', head + 1, length - tail, 1) == -1) {
                    kind = candidate;
                    break;
                }
            }
        }
        Py_INCREF(kind);
        PyList_SET_ITEM(found, i, kind);
    }
    Py_DECREF(none);
    return found;
error:
    Py_XDECREF(none);
    Py_XDECREF(found);
    return NULL;
}

static PyMethodDef methods[] = {
    {"list_folder", list_folder, METH_VARARGS, list_folder_doc},
    {"prefix_kinds", prefix_kinds, METH_VARARGS, prefix_kinds_doc},
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

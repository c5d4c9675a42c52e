/* The lstat of every file of a session folder, for a plain check.
 *
 * A plain check costs one lstat per file, and in Python each os.stat builds a stat_result
 * of 19 fields (three of them nanosecond integers made by big-integer arithmetic): more CPU
 * than the system call itself. This does the same fstatat calls and keeps only the three
 * fields the check judges. It is optional: wadoctor.stores.files falls back to os.stat when
 * it was not built, and the tests hold both to the same answers.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

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

PyDoc_STRVAR(lstat_names_doc,
"lstat_names(folder_fd, names) -> (names, modes, sizes, mtimes, failed)\n\n"
"lstat each name (not following links) relative to the open folder; the four lists hold\n"
"the names that could be, and failed holds (name, errno) for each that could not.\n"
"Names are encoded as os.fsencode encodes them; an mtime equals os.stat's st_mtime.");

static PyObject *
lstat_names(PyObject *module, PyObject *args)
{
    int folder;
    PyObject *names;
    if (!PyArg_ParseTuple(args, "iO!:lstat_names", &folder, &PyList_Type, &names))
        return NULL;
    PyObject *lists[5] = {PyList_New(0), PyList_New(0), PyList_New(0), PyList_New(0), PyList_New(0)};
    for (int i = 0; i < 5; i++)
        if (lists[i] == NULL)
            goto error;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(names); i++) {
        PyObject *name = PyList_GET_ITEM(names, i);
        if (!PyUnicode_Check(name)) {
            PyErr_SetString(PyExc_TypeError, "lstat_names: names must be str");
            goto error;
        }
        PyObject *raw = PyUnicode_EncodeFSDefault(name);
        if (raw == NULL)
            goto error;
        struct stat st;
        int rc = fstatat(folder, PyBytes_AS_STRING(raw), &st, AT_SYMLINK_NOFOLLOW);
        int err = errno;
        Py_DECREF(raw);
        if (rc == 0) {
            Py_INCREF(name);
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
            PyObject *failure[1] = {Py_BuildValue("(Oi)", name, err)};
            if (append_all(&lists[4], failure, 1) < 0)
                goto error;
        }
    }
    return Py_BuildValue("(NNNNN)", lists[0], lists[1], lists[2], lists[3], lists[4]);
error:
    for (int i = 0; i < 5; i++)
        Py_XDECREF(lists[i]);
    return NULL;
}

static PyMethodDef methods[] = {
    {"lstat_names", lstat_names, METH_VARARGS, lstat_names_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_lstat", "The lstat of many names in one call (see lstat_names).", -1, methods,
};

PyMODINIT_FUNC
PyInit__lstat(void)
{
    return PyModule_Create(&module);
}

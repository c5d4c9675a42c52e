/* The byte loops of a log scan, for the blocks of a gigabyte log.
 *
 * Each 8 MiB block is lower-cased for the keyword search and its line ends counted to number
 * the lines that matter. bytes.lower() allocates a fresh 8 MiB object per block, and the page
 * faults of that memory cost more than the lower-casing; bytes.count of one byte runs a
 * byte at a time. lower_into writes into a buffer the scan reuses, count_newlines counts in
 * a loop the compiler vectorizes (built with -O3). Optional: wadoctor.logs.scanner falls
 * back to bytes.lower and bytes.count where this was not built, and the tests hold both to
 * the same answers.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

PyDoc_STRVAR(lower_into_doc,
"lower_into(source, target) -> None\n\n"
"Write source, ASCII letters lower-cased as bytes.lower() does, into the start of target,\n"
"a writable buffer at least as long.");

static PyObject *
lower_into(PyObject *module, PyObject *args)
{
    Py_buffer source, target;
    if (!PyArg_ParseTuple(args, "y*w*:lower_into", &source, &target))
        return NULL;
    if (target.len < source.len) {
        PyBuffer_Release(&source);
        PyBuffer_Release(&target);
        PyErr_SetString(PyExc_ValueError, "lower_into: the target is shorter than the source");
        return NULL;
    }
    const unsigned char *from = source.buf;
    unsigned char *to = target.buf;
    const Py_ssize_t length = source.len;  /* a local: a store through `to` could alias source.len */
    for (Py_ssize_t i = 0; i < length; i++) {
        unsigned char c = from[i];
        to[i] = c + (((unsigned char)(c - 'A') < 26u) << 5);
    }
    PyBuffer_Release(&source);
    PyBuffer_Release(&target);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(count_newlines_doc,
"count_newlines(buffer, start, end) -> int\n\n"
"The number of b'\\n' in buffer[start:end], as bytes.count(b'\\n', start, end) counts them.");

static PyObject *
count_newlines(PyObject *module, PyObject *args)
{
    Py_buffer buffer;
    Py_ssize_t start, end;
    if (!PyArg_ParseTuple(args, "y*nn:count_newlines", &buffer, &start, &end))
        return NULL;
    /* slice bounds, as bytes.count adjusts them */
    if (end > buffer.len)
        end = buffer.len;
    else if (end < 0 && (end += buffer.len) < 0)
        end = 0;
    if (start < 0 && (start += buffer.len) < 0)
        start = 0;
    const unsigned char *bytes = buffer.buf;
    Py_ssize_t found = 0;
    for (Py_ssize_t i = start; i < end; i++)
        found += bytes[i] == '\n';
    PyBuffer_Release(&buffer);
    return PyLong_FromSsize_t(found);
}

static PyMethodDef methods[] = {
    {"lower_into", lower_into, METH_VARARGS, lower_into_doc},
    {"count_newlines", count_newlines, METH_VARARGS, count_newlines_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_blocks", "A log scan's byte loops in C (see the functions).", -1, methods,
};

PyMODINIT_FUNC
PyInit__blocks(void)
{
    return PyModule_Create(&module);
}

/* The byte loops of a log scan, for the blocks of a gigabyte log.
 *
 * Each block is lower-cased for the keyword search and its line ends counted to number the
 * lines that matter. bytes.lower() allocates a fresh object per block, and the page faults of
 * that memory cost more than the lower-casing; bytes.count of one byte runs a byte at a time,
 * and once per line that matters it costs a call from Python each. lower_into writes into a
 * buffer the scan reuses; newline_counts numbers every line that matters in one pass over the
 * block, in a loop the compiler vectorizes (built with -O3). Optional: wadoctor.logs.scanner
 * falls back to bytes.lower and bytes.count where this was not built, and the tests hold
 * both to the same answers.
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

/* The line ends in bytes[from:to]: 16-byte lanes of one-byte counters (at most 255 rounds
 * before they are summed, so none overflows), a loop the compiler turns into vector compares
 * and subtracts, at memory speed. */
static Py_ssize_t
newlines(const unsigned char *bytes, Py_ssize_t from, Py_ssize_t to)
{
    Py_ssize_t found = 0;
    while (to - from >= 16) {
        unsigned char lanes[16] = {0};
        Py_ssize_t rounds = (to - from) / 16;
        if (rounds > 255)
            rounds = 255;
        for (Py_ssize_t r = 0; r < rounds; r++, from += 16)
            for (int k = 0; k < 16; k++)
                lanes[k] += bytes[from + k] == '\n';
        for (int k = 0; k < 16; k++)
            found += lanes[k];
    }
    for (; from < to; from++)
        found += bytes[from] == '\n';
    return found;
}

PyDoc_STRVAR(newline_counts_doc,
"newline_counts(buffer, start, end, positions) -> list[int]\n\n"
"For each of the ascending positions (each within start..end), the number of b'\\n' in\n"
"buffer[start:position]; then that number for buffer[start:end]. One pass over the bytes,\n"
"whatever the number of positions.");

static PyObject *
newline_counts(PyObject *module, PyObject *args)
{
    Py_buffer buffer;
    Py_ssize_t start, end;
    PyObject *positions;
    if (!PyArg_ParseTuple(args, "y*nnO:newline_counts", &buffer, &start, &end, &positions))
        return NULL;
    PyObject *sequence = PySequence_Fast(positions, "newline_counts: positions must be a sequence");
    PyObject *counts = NULL;
    if (sequence == NULL)
        goto done;
    if (start < 0 || end > buffer.len || start > end) {
        PyErr_SetString(PyExc_ValueError, "newline_counts: start..end is not within the buffer");
        goto done;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(sequence);
    counts = PyList_New(n + 1);
    if (counts == NULL)
        goto done;
    const unsigned char *bytes = buffer.buf;
    Py_ssize_t at = start, found = 0;
    for (Py_ssize_t i = 0; i <= n; i++) {
        Py_ssize_t position = end;
        if (i < n) {
            position = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(sequence, i));
            if (position == -1 && PyErr_Occurred())
                goto failed;
            if (position < at || position > end) {
                PyErr_SetString(PyExc_ValueError, "newline_counts: positions must ascend within start..end");
                goto failed;
            }
        }
        found += newlines(bytes, at, position);
        at = position;
        PyObject *count = PyLong_FromSsize_t(found);
        if (count == NULL)
            goto failed;
        PyList_SET_ITEM(counts, i, count);
    }
    goto done;
failed:
    Py_CLEAR(counts);
done:
    Py_XDECREF(sequence);
    PyBuffer_Release(&buffer);
    return counts;
}

static PyMethodDef methods[] = {
    {"lower_into", lower_into, METH_VARARGS, lower_into_doc},
    {"newline_counts", newline_counts, METH_VARARGS, newline_counts_doc},
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

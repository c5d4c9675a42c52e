/* Times as every output writes them, in C: a database of a million sessions writes three
 * times each, and time.strftime over time.gmtime costs a microsecond a time (a struct_time,
 * then the locale's formatting), a tenth of what one session's whole record costs here.
 * Optional: wadoctor.util.times does the same in Python where this was not built, and the
 * tests hold both to the same answers.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#define YEAR_10000 253402300800.0 /* the first second a four-digit year cannot write */

PyDoc_STRVAR(iso_doc,
"iso(timestamp) -> str\n\n"
"The UTC second of a timestamp in [0, year 10000) as YYYY-MM-DDTHH:MM:SSZ, the fraction\n"
"dropped as time.gmtime drops it. Raises ValueError outside that range.");

static PyObject *
iso(PyObject *self, PyObject *arg)
{
    double timestamp = PyFloat_AsDouble(arg);
    if (timestamp == -1.0 && PyErr_Occurred())
        return NULL;
    if (!(timestamp >= 0 && timestamp < YEAR_10000)) {
        PyErr_SetString(PyExc_ValueError, "timestamp out of range");
        return NULL;
    }
    int64_t seconds = (int64_t)floor(timestamp);
    int64_t days = seconds / 86400, rest = seconds % 86400;
    /* days since 1970-01-01 to a civil date (H. Hinnant, "chrono-Compatible Low-Level Date
     * Algorithms"), for days >= 0 only */
    int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = yoe + era * 400 + (month <= 2);
    char text[24];
    int length = snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)year, (int)month, (int)day,
                          (int)(rest / 3600), (int)(rest / 60 % 60), (int)(rest % 60));
    return PyUnicode_FromStringAndSize(text, length);
}

static PyMethodDef methods[] = {
    {"iso", iso, METH_O, iso_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_times", "Times as outputs write them, in C (see iso).", -1, methods,
};

PyMODINIT_FUNC
PyInit__times(void)
{
    return PyModule_Create(&module);
}

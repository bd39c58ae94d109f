/* Optional accelerator of douyin_async.converters: builds records from parsed JSON dicts.
 *
 * build(raws, cls, keys, names, kinds, slow, utc, date_cache, parse_date) -> list
 *
 * For each dict of `raws` it reads `keys`, checks that each value already has the type its
 * field needs (`kinds`, one byte per field: see the K_* values), converts the two kinds that
 * need it, and sets the fields `names` on a new instance of `cls` (object.__new__ plus the
 * generic setattr, which is what attrs' own frozen __init__ does, minus the Python frames).
 *
 * A dict it cannot take as it is (not an exact dict, a missing or unknown key, a value of
 * another type, a date it has not seen and that does not parse, a timestamp outside years
 * 1970..9999) goes to `slow(raw)`, the pure-Python structure function, so the result or the
 * exception of such a record is exactly the one the Python path gives. The Python module
 * generates the arguments; nothing here knows the record classes.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>

enum {
    K_INT = 0,      /* an exact int, stored as it is */
    K_STR = 1,      /* an exact str, stored as it is */
    K_DATETIME = 2, /* unix seconds (exact int) -> aware datetime in `utc` */
    K_DATE = 3,     /* 'YYYY-MM-DD' (exact str) -> date, through `date_cache` / `parse_date` */
};

#define MAX_FIELDS 64
/* 10000-01-01T00:00:00Z: datetime's year range ends just before it. */
#define END_OF_YEAR_9999 253402300800LL

static PyObject *empty_tuple;

/* Aware UTC datetime of unix seconds `ts` (0 <= ts < END_OF_YEAR_9999); the date part is
 * Howard Hinnant's civil_from_days. Equal to datetime.fromtimestamp(ts, utc). */
static PyObject *
utc_datetime(long long ts, PyObject *utc)
{
    long long days = ts / 86400, secs = ts % 86400;
    long long z = days + 719468;
    long long era = z / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    int day = (int)(doy - (153 * mp + 2) / 5 + 1);
    int month = (int)(mp < 10 ? mp + 3 : mp - 9);
    int year = (int)(yoe + era * 400 + (month <= 2));
    return PyDateTimeAPI->DateTime_FromDateAndTime(
        year, month, day, (int)(secs / 3600), (int)(secs % 3600 / 60), (int)(secs % 60), 0,
        utc, PyDateTimeAPI->DateTimeType);
}

/* One field's value as the record stores it (a new reference), or NULL with no exception
 * set when the record must take the slow path, or NULL with an exception on a real error. */
static PyObject *
field_value(char kind, PyObject *v, PyObject *utc, PyObject *date_cache, PyObject *parse_date)
{
    switch (kind) {
    case K_INT:
        if (!PyLong_CheckExact(v))
            return NULL;
        return Py_NewRef(v);
    case K_STR:
        if (!PyUnicode_CheckExact(v))
            return NULL;
        return Py_NewRef(v);
    case K_DATETIME: {
        int overflow;
        long long ts;
        if (!PyLong_CheckExact(v))
            return NULL;
        ts = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow || ts < 0 || ts >= END_OF_YEAR_9999)
            return NULL;
        PyObject *out = utc_datetime(ts, utc);
        if (out == NULL)
            PyErr_Clear(); /* the slow path raises its own error, if any */
        return out;
    }
    case K_DATE: {
        if (!PyUnicode_CheckExact(v))
            return NULL;
        PyObject *cached = PyDict_GetItemWithError(date_cache, v);
        if (cached != NULL)
            return Py_NewRef(cached);
        if (PyErr_Occurred())
            return NULL;
        PyObject *out = PyObject_CallOneArg(parse_date, v);
        if (out == NULL)
            PyErr_Clear(); /* the slow path raises its own error */
        return out;
    }
    default:
        return NULL;
    }
}

static PyObject *
build(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 9) {
        PyErr_SetString(PyExc_TypeError, "build() takes exactly 9 arguments");
        return NULL;
    }
    PyObject *raws = args[0], *cls = args[1], *keys = args[2], *names = args[3];
    PyObject *kinds = args[4], *slow = args[5], *utc = args[6], *date_cache = args[7];
    PyObject *parse_date = args[8];
    if (!PyList_CheckExact(raws) || !PyType_Check(cls) || !PyTuple_CheckExact(keys)
        || !PyTuple_CheckExact(names) || !PyBytes_CheckExact(kinds)
        || !PyDict_CheckExact(date_cache) || !PyCallable_Check(slow)
        || !PyCallable_Check(parse_date) || !PyTZInfo_Check(utc)) {
        PyErr_SetString(PyExc_TypeError, "build(): an argument has the wrong type");
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(keys);
    if (n == 0 || n > MAX_FIELDS || PyTuple_GET_SIZE(names) != n
        || PyBytes_GET_SIZE(kinds) != n) {
        PyErr_SetString(PyExc_ValueError, "build(): keys, names and kinds must match");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!PyUnicode_Check(PyTuple_GET_ITEM(keys, i))
            || !PyUnicode_Check(PyTuple_GET_ITEM(names, i))) {
            PyErr_SetString(PyExc_TypeError, "build(): keys and names must be strings");
            return NULL;
        }
    }
    const char *kind = PyBytes_AS_STRING(kinds);
    PyTypeObject *type = (PyTypeObject *)cls;
    /* A snapshot: the slow path runs Python code, which must not pull records from under us. */
    PyObject *items = PyList_AsTuple(raws);
    if (items == NULL)
        return NULL;
    Py_ssize_t count = PyTuple_GET_SIZE(items);
    PyObject *out = PyList_New(count);
    if (out == NULL) {
        Py_DECREF(items);
        return NULL;
    }
    PyObject *vals[MAX_FIELDS];

    for (Py_ssize_t r = 0; r < count; r++) {
        PyObject *raw = PyTuple_GET_ITEM(items, r);
        PyObject *inst = NULL;
        Py_ssize_t got = 0;
        if (!PyDict_CheckExact(raw) || PyDict_GET_SIZE(raw) != n)
            goto slow_path;
        for (; got < n; got++) {
            PyObject *v = PyDict_GetItemWithError(raw, PyTuple_GET_ITEM(keys, got));
            if (v == NULL) {
                if (PyErr_Occurred())
                    goto error;
                goto slow_path;
            }
            v = field_value(kind[got], v, utc, date_cache, parse_date);
            if (v == NULL) {
                if (PyErr_Occurred())
                    goto error;
                goto slow_path;
            }
            vals[got] = v;
        }
        inst = type->tp_new(type, empty_tuple, NULL);
        if (inst == NULL)
            goto error;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (PyObject_GenericSetAttr(inst, PyTuple_GET_ITEM(names, i), vals[i]) < 0)
                goto error;
        }
        /* Every value is an exact int or str, a datetime or a date: none can lead back to
         * the record, so it can never be part of a reference cycle. Like the tuples and
         * dicts of atomic values that CPython itself untracks, the record leaves the cyclic
         * collector's lists, which then do not grow with the records a program holds. */
        if (PyObject_GC_IsTracked(inst))
            PyObject_GC_UnTrack(inst);
        goto done;
    slow_path:
        inst = PyObject_CallOneArg(slow, raw);
        if (inst == NULL)
            goto error;
    done:
        for (Py_ssize_t i = 0; i < got; i++)
            Py_DECREF(vals[i]);
        PyList_SET_ITEM(out, r, inst);
        continue;
    error:
        for (Py_ssize_t i = 0; i < got; i++)
            Py_DECREF(vals[i]);
        Py_XDECREF(inst);
        Py_DECREF(out);
        Py_DECREF(items);
        return NULL;
    }
    Py_DECREF(items);
    return out;
}

PyDoc_STRVAR(build_doc,
"build(raws, cls, keys, names, kinds, slow, utc, date_cache, parse_date) -> list\n\n"
"Records of `cls` from the parsed dicts `raws`; see douyin_async.converters.");

static PyMethodDef methods[] = {
    {"build", (PyCFunction)(void (*)(void))build, METH_FASTCALL, build_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "douyin_async._fastrecords",
    "Optional accelerator of douyin_async.converters.", -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__fastrecords(void)
{
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL)
        return NULL;
    if (empty_tuple == NULL) {
        empty_tuple = PyTuple_New(0);
        if (empty_tuple == NULL)
            return NULL;
    }
    return PyModule_Create(&moduledef);
}

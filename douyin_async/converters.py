"""The one cattrs converter and its hooks, built once at import.

Task-video records arrive with PascalCase keys (as the API page prints them: ``GMV1d``,
``TaskId``) or snake_case keys (as ByteDance's SDK models name them: ``gmv_1d``, ``task_id``);
both are accepted. Keys the client does not know are kept in the record's ``extra``.
Detailed validation is off: it made decoding 15-20% slower, and a bad record still raises.

Each record class and key style has two structure functions:

- the reference: the function cattrs generates for the class (``make_dict_structure_fn``),
  which converts every field through the converter's hooks (``int(v)``, ``str(v)``, ...);
- the fast path, generated here once at import and registered on the converter: it reads the
  known keys with one ``operator.itemgetter`` call, checks that each value already has the
  type its field needs (``type(v) is int`` / ``str``), and fills the new instance's
  ``__dict__`` directly, skipping the attrs ``__init__``.

A record the fast path cannot take as it is (a missing key, a value of another type, a date
that does not parse) goes to the reference, so the result, or the exception, is the
reference's own.

A batch (a page's chunk) goes through the optional C accelerator ``_fastrecords`` when it was
built: the same checks and conversions as the fast path, with the record set up the way
attrs' own frozen ``__init__`` does (``object.__new__`` and ``object.__setattr__``), and any
record it cannot take handed to the Python fast path. A record it builds holds only atomic
values (ints, strings, a datetime, a date), so it can never be part of a reference cycle; the
accelerator takes it off the cyclic collector's lists, as CPython does for tuples and dicts of
atomic values, so collections do not slow down as a program holds more records.

Without a C compiler at install time, or with ``DOUYIN_ASYNC_NO_EXTENSIONS=1`` in the
environment, the Python path runs alone; :data:`ACCELERATED` tells which.
"""

from __future__ import annotations

import datetime as dt
import os
import typing
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any, Generic, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from .models import EMPTY_EXTRA, TalentMedia, VideoDailyData

T = TypeVar("T")

_Build = Callable[..., list[Any]]
_c_build: _Build | None
try:
    from ._fastrecords import build as _built

    _c_build = _built
except ImportError:  # installed without a C compiler: the Python path runs alone
    _c_build = None

_BUILD: _Build | None = None if os.environ.get("DOUYIN_ASYNC_NO_EXTENSIONS") else _c_build
#: Whether batches decode through the C accelerator (see the module docstring).
ACCELERATED: bool = _BUILD is not None

#: snake_case field -> PascalCase key, as the task-video API page prints them.
VIDEO_PASCAL_KEYS: dict[str, str] = {
    "active_cnt_1d": "ActiveCnt1d",
    "ad_share_cost_1d": "AdShareCost1d",
    "author": "Author",
    "billing_gmv_1d": "BillingGMV1d",
    "billing_refund_gmv_1d": "BillingRefundGMV1d",
    "client_name": "ClientName",
    "feed_ad_share_cost_1d": "FeedAdShareCost1d",
    "douyin_id": "DouyinID",
    "expected_profit": "ExpectedProfit",
    "gmv_1d": "GMV1d",
    "micro_app_title": "MicroAppTitle",
    "publish_time": "PublishTime",
    "refund_gmv_1d": "RefundGMV1d",
    "task_id": "TaskId",
    "task_name": "TaskName",
    "video_id": "VideoId",
    "video_link": "VideoLink",
    "video_title": "VideoTitle",
    "date": "date",
}

_UTC = dt.UTC
_fromtimestamp = dt.datetime.fromtimestamp

#: Parsed ``date`` strings. A page's records share one billing date, so this stays tiny; it is
#: emptied if it ever grows past ``_DATE_CACHE_LIMIT``.
_DATE_CACHE: dict[str, dt.date] = {}
_DATE_CACHE_LIMIT = 4096


def _structure_datetime(value: Any, _: type) -> dt.datetime:
    if value.__class__ is int:  # the common case, without isinstance chains
        return _fromtimestamp(value, _UTC)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected unix seconds, got {value!r}")
    return _fromtimestamp(int(value), _UTC)


def _structure_date(value: Any, _: type) -> dt.date:
    cached = _DATE_CACHE.get(value) if value.__class__ is str else None
    if cached is not None:
        return cached
    parsed = dt.date.fromisoformat(value)
    if len(_DATE_CACHE) >= _DATE_CACHE_LIMIT:
        _DATE_CACHE.clear()
    _DATE_CACHE[value] = parsed
    return parsed


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=False, forbid_extra_keys=False)
    conv.register_structure_hook(dt.datetime, _structure_datetime)
    conv.register_structure_hook(dt.date, _structure_date)
    conv.register_unstructure_hook(dt.datetime, lambda d: int(d.timestamp()))
    conv.register_unstructure_hook(dt.date, lambda d: d.isoformat())
    return conv


#: The converter. Use it to unstructure records (e.g. for JSON output) as well.
converter = _make_converter()


#: How the fast path checks and converts a field, by annotated type: the raw JSON value's
#: required type, the name of the conversion applied to it (None: stored as it is), and the
#: accelerator's code for the same (its ``K_*`` values).
_FAST_FIELDS: dict[Any, tuple[type, str | None, int]] = {
    int: (int, None, 0),
    str: (str, None, 1),
    dt.datetime: (int, "datetime", 2),
    dt.date: (str, "date", 3),
}


def _date_or_parse(value: str) -> dt.date:
    return _structure_date(value, dt.date)


def _make_fast(
    cls: type[T], names: list[str], keys: list[str], reference: Callable[[Any], T]
) -> tuple[Callable[[Any], T], Callable[[Sequence[Any]], list[T]]] | None:
    """Generate the fast structure functions of ``cls`` (one record, a batch), or None.

    ``names`` are the fields in class order (``extra`` excluded), ``keys`` the raw keys they
    are read from. The instance's ``__dict__`` is filled in field order, the order attrs'
    ``__init__`` uses, so instances keep sharing the class's key table. An empty ``extra`` is
    left out (the class attribute :data:`~douyin_async.models.EMPTY_EXTRA` answers for it):
    the dict then holds only atomic values, so the cyclic garbage collector does not track
    it, which halves the objects a collection walks per record.
    """
    hints = typing.get_type_hints(cls)
    specs = []
    for name in names:
        spec = _FAST_FIELDS.get(hints[name])
        if spec is None:
            return None
        specs.append(spec)
    n_keys = len(keys)
    values = [f"v{i}" for i in range(n_keys)]
    unpack = ", ".join(values) + ("," if n_keys == 1 else "")
    converts: list[str] = []
    stored: list[str] = []
    for i, (_, how, _) in enumerate(specs):
        if how == "datetime":
            converts.append(f"v{i} = fromtimestamp(v{i}, UTC)")
        elif how == "date":
            converts += [f"x{i} = date_get(v{i})",
                         f"if x{i} is None:",
                         f"    x{i} = date_parse(v{i})"]
        stored.append(f"x{i}" if how == "date" else f"v{i}")

    def block(lines: list[str], indent: int) -> str:
        return "".join(" " * indent + line + "\n" for line in lines)

    fill = [f"d[{name!r}] = {value}" for name, value in zip(names, stored, strict=True)]
    source = (
        "def structure_one(raw, _cls=None):\n"
        "    try:\n"
        f"        {unpack} = getter(raw)\n"
        "    except Exception:\n"
        "        return reference(raw)\n"
        f"    if ({', '.join(f'type({v})' for v in values)},) != types:\n"
        "        return reference(raw)\n"
        + ("    try:\n" + block(converts, 8) + "    except Exception:\n"
           "        return reference(raw)\n" if converts else "") +
        "    inst = new(cls)\n"
        "    d = inst.__dict__\n"
        + block(fill, 4) +
        "    if len(raw) != n_keys:\n"
        "        d['extra'] = extra_of(raw)\n"
        "    return inst\n"
        "\n"
        "def structure_many(raws):\n"
        "    out = []\n"
        "    append = out.append\n"
        "    for raw in raws:\n"
        "        try:\n"
        f"            {unpack} = getter(raw)\n"
        "        except Exception:\n"
        "            append(reference(raw))\n"
        "            continue\n"
        f"        if ({', '.join(f'type({v})' for v in values)},) != types:\n"
        "            append(reference(raw))\n"
        "            continue\n"
        + ("        try:\n" + block(converts, 12) + "        except Exception:\n"
           "            append(reference(raw))\n"
           "            continue\n" if converts else "") +
        "        inst = new(cls)\n"
        "        d = inst.__dict__\n"
        + block(fill, 8) +
        "        if len(raw) != n_keys:\n"
        "            d['extra'] = extra_of(raw)\n"
        "        append(inst)\n"
        "    return out\n"
    )
    key_set = frozenset(keys)

    def extra_of(raw: Mapping[str, Any]) -> Mapping[str, Any]:
        extra = {k: v for k, v in raw.items() if k not in key_set}
        return extra or EMPTY_EXTRA

    namespace: dict[str, Any] = {
        "getter": itemgetter(*keys) if n_keys > 1 else (lambda raw, _k=keys[0]: (raw[_k],)),
        "types": tuple(required for required, _, _ in specs),
        "n_keys": n_keys,
        "reference": reference,
        "cls": cls,
        "new": cls.__new__,
        "EMPTY": EMPTY_EXTRA,
        "extra_of": extra_of,
        "fromtimestamp": _fromtimestamp,
        "UTC": _UTC,
        "date_get": _DATE_CACHE.get,
        "date_parse": _date_or_parse,
    }
    filename = f"<fast structure {cls.__qualname__} {'/'.join(keys[:2])}...>"
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - source built above
    return namespace["structure_one"], namespace["structure_many"]


class RecordDecoder(Generic[T]):
    """Structures raw dicts of one record type and keeps unknown keys in ``extra``.

    The reference structure function is generated by cattrs for the record class, with the key
    renames. Every known key is required (a missing one raises ``KeyError``), so a raw dict
    that structured holds unknown keys exactly when it has more keys than the class has
    fields: one ``len()`` per record instead of a key-set comparison. The fast path (see the
    module docstring) builds the same records and hands anything unusual to the reference.
    """

    def __init__(
        self, cls: type[T], renames: Mapping[str, str] | None = None, *,
        accelerated: bool | None = None,
    ) -> None:
        names = [a.name for a in attrs.fields(cls) if a.name != "extra"]  # type: ignore[arg-type]
        renames = renames or {}
        overrides: dict[str, Any] = {n: override(rename=renames.get(n, n)) for n in names}
        overrides["extra"] = override(omit=True)
        self.cls = cls
        keys = [renames.get(n, n) for n in names]
        self.keys = frozenset(keys)
        self._n_keys = len(self.keys)
        self._fn: Callable[[Mapping[str, Any], type[T]], T] = make_dict_structure_fn(
            cls, converter, _cattrs_forbid_extra_keys=False, **overrides
        )
        if accelerated and _c_build is None:
            raise RuntimeError("the C accelerator douyin_async._fastrecords is not built")
        fast = _make_fast(cls, names, keys, self.reference)
        self._build: _Build | None = None
        if fast is None:
            self._one: Callable[[Any], T] = self.reference
            self._many: Callable[[Sequence[Any]], list[T]] = self._reference_many
        else:
            self._one, self._many = fast
            self._build = _BUILD if accelerated is None else (_c_build if accelerated else None)
            hints = typing.get_type_hints(cls)
            self._key_tuple = tuple(keys)
            self._name_tuple = tuple(names)
            self._kinds = bytes(_FAST_FIELDS[hints[name]][2] for name in names)

    @property
    def accelerated(self) -> bool:
        """Whether :meth:`many` runs through the C accelerator."""
        return self._build is not None

    def __call__(self, raw: Mapping[str, Any]) -> T:
        return self._one(raw)

    def structure(self, raw: Mapping[str, Any], _: Any = None) -> T:
        """One record; the signature of a cattrs structure hook."""
        return self._one(raw)

    def many(self, raws: Sequence[Mapping[str, Any]]) -> list[T]:
        """Structure a batch of raw dicts (the hot path of a page)."""
        build = self._build
        if build is None or not raws or type(raws) is not list:
            return self._many(raws)
        # The sample's own key objects: the JSON parser reuses them for every record, so the
        # accelerator's lookups match by identity instead of comparing characters.
        sample = raws[0]
        own = {key: key for key in sample} if type(sample) is dict else {}
        keys = tuple([own.get(key, key) for key in self._key_tuple])
        return build(raws, self.cls, keys, self._name_tuple, self._kinds, self._one, _UTC,
                     _DATE_CACHE, _date_or_parse)

    def reference(self, raw: Mapping[str, Any]) -> T:
        """One record through the cattrs-generated structure function (the reference path)."""
        record = self._fn(raw, self.cls)
        if len(raw) != self._n_keys:
            self._keep_extra(raw, record)
        return record

    def _reference_many(self, raws: Sequence[Mapping[str, Any]]) -> list[T]:
        return [self.reference(raw) for raw in raws]

    def _keep_extra(self, raw: Mapping[str, Any], record: T) -> None:
        keys = self.keys
        extra = {k: v for k, v in raw.items() if k not in keys}
        if extra:
            # The instance is fresh and not yet shared: completing it here is safe.
            object.__setattr__(record, "extra", extra)


_VIDEO_PASCAL = RecordDecoder(VideoDailyData, VIDEO_PASCAL_KEYS)
_VIDEO_SNAKE = RecordDecoder(VideoDailyData)
_TALENT = RecordDecoder(TalentMedia)

#: The decoder of talent-media records.
talent_media_decoder: RecordDecoder[TalentMedia] = _TALENT


def video_decoder(sample: Mapping[str, Any]) -> RecordDecoder[VideoDailyData]:
    """The decoder for task-video records keyed like ``sample`` (PascalCase or snake_case)."""
    return _VIDEO_SNAKE if "task_id" in sample or "video_id" in sample else _VIDEO_PASCAL


def _structure_video(raw: Mapping[str, Any], _: Any = None) -> VideoDailyData:
    return video_decoder(raw)(raw)


converter.register_structure_hook(VideoDailyData, _structure_video)
converter.register_structure_hook(TalentMedia, _TALENT.structure)


def decode_video(raw: Mapping[str, Any]) -> VideoDailyData:
    """One task-video record from its raw dict (either key style)."""
    return video_decoder(raw)(raw)


def decode_talent_media(raw: Mapping[str, Any]) -> TalentMedia:
    """One talent-media record from its raw dict."""
    return _TALENT(raw)


def unstructure(record: Any) -> dict[str, Any]:
    """A record as a JSON-ready dict (snake_case keys; unknown server keys merged back)."""
    data: dict[str, Any] = converter.unstructure(record)
    extra = data.pop("extra", None)
    if extra:
        for key, value in extra.items():
            data.setdefault(key, value)
    return data


class _PerRecord(Generic[T]):
    """Batch decoding over a one-record function (replaced by the column-wise decoders)."""

    def __init__(self, one: Callable[[Any], T]) -> None:
        self._one = one

    def _decode(self, raw: Any, index: int) -> T:
        from .errors import InvalidRecordError

        try:
            return self._one(raw)
        except (KeyError, ValueError, TypeError, AttributeError, OSError, OverflowError) as exc:
            field = str(exc.args[0]) if isinstance(exc, KeyError) else ""
            raise InvalidRecordError(f"record {index} refused ({type(exc).__name__}: {exc})",
                                     field=field, reason=str(exc), record=raw, index=index,
                                     snippet=str(raw)[:200]) from None

    def many(self, raws: Sequence[Any]) -> list[T]:
        return [self._decode(raw, i) for i, raw in enumerate(raws)]

    def split(self, raws: Sequence[Any]) -> tuple[list[T], list[Any]]:
        from .errors import InvalidRecordError

        good: list[T] = []
        bad: list[InvalidRecordError] = []
        for i, raw in enumerate(raws):
            try:
                good.append(self._decode(raw, i))
            except InvalidRecordError as exc:
                bad.append(exc)
        return good, bad


video_records: _PerRecord[VideoDailyData] = _PerRecord(decode_video)
talent_media_records: _PerRecord[TalentMedia] = _PerRecord(decode_talent_media)

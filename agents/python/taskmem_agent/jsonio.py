"""JSON for the agent's own threads, written so that tracemalloc credits every allocation to an
agent frame (which the profile then drops).

``json.dumps`` / ``json.loads`` run through Python frames of the ``json`` package; with a small
``nframe`` those frames are all a trace keeps, and the agent's reply buffers would show up in the
user's profile as anonymous ``json/encoder.py`` sites.  Here the Python-level work happens in this
module and the heavy lifting in the C helpers (string escaping, the C scanner).
"""
import json
import json.decoder
import json.encoder
import json.scanner  # type: ignore[import]  # no stub for it in Debian's mypy (1.0)

# The C helper when the interpreter has it; both are private names of json.encoder (hence getattr).
_escape = getattr(json.encoder, "c_encode_basestring_ascii", None) or getattr(json.encoder, "encode_basestring_ascii")

_decoder = json.decoder.JSONDecoder()
_scan_once = json.scanner.make_scanner(_decoder)
_float_repr = float.__repr__
_INF = float("inf")


def _float(o):
    if o != o or o == _INF or o == -_INF:
        return "null"
    return _float_repr(o)


def _enc(o, out):
    t = type(o)
    if t is str:
        out.append(_escape(o))
    elif o is None:
        out.append("null")
    elif o is True:
        out.append("true")
    elif o is False:
        out.append("false")
    elif t is int:
        out.append(int.__repr__(o))
    elif t is float:
        out.append(_float(o))
    elif t is dict:
        out.append("{")
        first = True
        for k, v in o.items():
            if not first:
                out.append(",")
            first = False
            out.append(_escape(k if type(k) is str else str(k)))
            out.append(":")
            _enc(v, out)
        out.append("}")
    elif t is list or t is tuple:
        out.append("[")
        first = True
        for v in o:
            if not first:
                out.append(",")
            first = False
            _enc(v, out)
        out.append("]")
    elif isinstance(o, int):
        out.append(int.__repr__(int(o)))
    elif isinstance(o, float):
        out.append(_float(float(o)))
    elif isinstance(o, str):
        out.append(_escape(str(o)))
    elif isinstance(o, dict):
        _enc(dict(o), out)
    elif isinstance(o, (list, tuple)):
        _enc(list(o), out)
    else:
        out.append(_escape(repr(o)))


def dumps(o):
    out: list = []
    _enc(o, out)
    return "".join(out)


def loads(text):
    """Strict JSON text -> object; ValueError on malformed input."""
    n = len(text)
    i = 0
    while i < n and text[i] in " \t\r\n":
        i += 1
    try:
        obj, end = _scan_once(text, i)
    except StopIteration as e:
        raise ValueError(f"Expecting value at char {e.value}")
    while end < n and text[end] in " \t\r\n":
        end += 1
    if end != n:
        raise ValueError(f"Extra data at char {end}")
    return obj

# SPDX-License-Identifier: MIT
"""A strict LEEF 1.0/2.0 parser written from IBM's rules ("LEEF event
components", "Predefined LEEF event attributes", custom key best
practices; reference/formats.md section 2), for the integration tests.

    LEEF:1.0|Vendor|Product|Version|EventID|key=value<TAB>key=value...
    LEEF:2.0|Vendor|Product|Version|EventID|Delimiter|key=value<D>...

Strict means: the version is 1.0 or 2.0; there are exactly 5 (1.0) or 6
(2.0) header fields, none empty and none holding a control character;
the 2.0 delimiter field is one character or x/0x and 1-4 hex digits; the
attributes split on the delimiter (TAB for 1.0) into key=value pairs with
an alphanumeric key (the key ends at the first '='), a non-empty value
without control characters or leading/trailing spaces; no key twice, no
empty attribute, so no trailing delimiter; the whole event is valid UTF-8
and holds no CR or LF.  Anything else raises LeefError.
"""

import re

KEY = re.compile(r"[A-Za-z0-9]+\Z")
HEX = re.compile(r"(?:0[xX]|[xX])([0-9A-Fa-f]{1,4})\Z")
CONTROL = re.compile("[\x00-\x1f\x7f]")

# QRadar's predefined attribute keys (IBM).
PREDEFINED = frozenset("""cat devTime devTimeFormat proto sev src dst
srcPort dstPort srcPreNAT dstPreNAT srcPostNAT dstPostNAT usrName srcMAC
dstMAC srcPreNATPort dstPreNATPort srcPostNATPort dstPostNATPort identSrc
identHostName identNetBios identGrpName identMAC vSrc vSrcName accountName
srcBytes dstBytes srcPackets dstPackets totalPackets role realm policy
resource url groupID domain isLoginEvent isLogoutEvent identSecondlp
calLanguage calCountryOrRegion""".split())


class LeefError(ValueError):
    pass


class Event:
    def __init__(self, version, header, delimiter, attrs):
        self.version = version      # "1.0" or "2.0"
        self.header = header        # [vendor, product, version, event id]
        self.delimiter = delimiter  # the attribute delimiter character
        self.attrs = attrs          # {key: value}, in order

    @property
    def event_id(self):
        return self.header[3]


def delimiter_of(field):
    if len(field) == 1:
        return field
    m = HEX.match(field)
    if not m:
        raise LeefError("delimiter field %r is not a character or xHH"
                        % field)
    code = int(m.group(1), 16)
    if code == 0 or code > 0x7F:
        raise LeefError("delimiter code %r out of range" % field)
    return chr(code)


def parse(data):
    """Parse one event (bytes or str) into an Event."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise LeefError("invalid UTF-8: %s" % e) from None
    else:
        text = data
    if "\r" in text or "\n" in text:
        raise LeefError("CR or LF inside the event")
    if text.startswith("LEEF:1.0|"):
        version, nfields = "1.0", 4
    elif text.startswith("LEEF:2.0|"):
        version, nfields = "2.0", 5
    else:
        raise LeefError("no LEEF:1.0| or LEEF:2.0| prefix")
    rest = text[9:]
    header = []
    for _ in range(nfields):
        bar = rest.find("|")
        if bar < 0:
            raise LeefError("header has fewer than %d fields"
                            % (nfields + 1))
        field = rest[:bar]
        if field == "":
            raise LeefError("empty header field")
        if CONTROL.search(field):
            raise LeefError("control character in header field")
        header.append(field)
        rest = rest[bar + 1:]
    delim = "\t"
    if version == "2.0":
        delim = delimiter_of(header[4])
        header = header[:4]
    attrs = {}
    if rest == "":
        return Event(version, header, delim, attrs)
    for pair in rest.split(delim):
        if pair == "":
            raise LeefError("empty attribute (doubled or trailing "
                            "delimiter)")
        key, eq, value = pair.partition("=")
        if not eq or not KEY.match(key):
            raise LeefError("attribute %r is not key=value with an "
                            "alphanumeric key" % pair[:60])
        if value == "":
            raise LeefError("empty value for %s" % key)
        if CONTROL.search(value):
            raise LeefError("control character in %s" % key)
        if value != value.strip(" "):
            raise LeefError("leading or trailing space in %s" % key)
        if key in attrs:
            raise LeefError("key %s twice" % key)
        attrs[key] = value
    return Event(version, header, delim, attrs)
